import { type BigIntStats, mkdirSync, realpathSync } from "node:fs";
import * as fsp from "node:fs/promises";
import { basename, dirname, join, resolve, sep } from "node:path";
import { InvalidPathError, isValidPathOrRoot, StorageDriverError } from "@stowage/core";
import { fsyncDir } from "./durable.js";
import { hasCode } from "./fs-errors.js";

/** Attempts at mkdir -p while concurrent cleanups remove the directories it makes. */
const MKDIR_ATTEMPTS = 8;

/** Entries of the verified-directory cache; it starts over when full. */
const DIR_CACHE_LIMIT = 4096;

/**
 * Maps driver paths to host paths under one root directory and keeps every access inside it.
 * The path rule already forbids `..`, but this does not rely on it: each host path is checked
 * lexically, and the real path of every directory the driver works in is checked too, so a
 * symlink planted inside the root cannot send a read or a write outside it.
 */
export class RootedPaths {
	/** The root's real path (symlinks resolved once, at construction). */
	readonly root: string;
	/** Verified directories: host path → real path and identity (see realDir). */
	private readonly dirs = new Map<string, VerifiedDir>();

	constructor(
		private readonly driver: string,
		rootDirectory: string,
	) {
		const absolute = resolve(rootDirectory);
		mkdirSync(absolute, { recursive: true });
		this.root = realpathSync(absolute);
	}

	/** The host path for a driver path, before any symlink resolution. */
	hostPath(path: string): string {
		if (typeof path !== "string" || !isValidPathOrRoot(path)) {
			throw new InvalidPathError(this.driver, String(path));
		}
		const full = path === "/" ? this.root : join(this.root, ...path.slice(1).split("/"));
		if (!this.contains(full)) throw new InvalidPathError(this.driver, path);
		return full;
	}

	contains(hostPath: string): boolean {
		return hostPath === this.root || hostPath.startsWith(this.root + sep);
	}

	/** Real path of an existing entry, refused when it resolves outside the root. */
	async real(hostPath: string): Promise<string> {
		const entry = await this.realEntry(hostPath);
		if (!(await fsp.lstat(entry)).isSymbolicLink()) return entry;
		const real = await fsp.realpath(entry);
		if (!this.contains(real)) throw this.escape(hostPath);
		return real;
	}

	/**
	 * Real path of an existing directory, refused outside the root. See locate.
	 * (Like any check of a path, this holds at one moment: it does not stop a swap between the
	 * check and the use.)
	 */
	async realDir(hostDir: string): Promise<string> {
		const found = await this.locate(hostDir);
		if (found.missing.length > 0) {
			throw Object.assign(new Error(`ENOENT: no such directory, ${hostDir}`), { code: "ENOENT" });
		}
		return found.real;
	}

	/**
	 * The entry's path under its parent's real path: the parent is resolved and checked, the entry
	 * itself is not followed (so rename, unlink and rm act on a link, never on its target).
	 */
	async realEntry(hostPath: string): Promise<string> {
		if (hostPath === this.root) return this.root;
		return join(await this.realDir(dirname(hostPath)), basename(hostPath));
	}

	/**
	 * mkdir -p, returning the directory's real path. The missing part is created below the real
	 * path of the deepest existing ancestor, so a symlink cannot make mkdir create anything
	 * outside the root. New directories are made durable: a file fsynced into them must not
	 * vanish in a crash with the directory entry that leads to it.
	 */
	async ensureDir(hostDir: string): Promise<string> {
		for (let attempt = 1; ; attempt++) {
			try {
				return await this.ensureDirOnce(hostDir);
			} catch (err) {
				// A concurrent cleanup pruned part of the chain while it was being made: again.
				if (!hasCode(err, "ENOENT")) throw err;
				if (attempt >= MKDIR_ATTEMPTS) throw err instanceof ChainChanged ? err.cause : err;
			}
		}
	}

	private async ensureDirOnce(hostDir: string): Promise<string> {
		const found = await this.locate(hostDir);
		if (found.missing.length === 0) return found.real;
		const { missing } = found;
		const created = join(found.real, ...missing);
		let first: string | undefined;
		try {
			first = await fsp.mkdir(created, { recursive: true });
		} catch (err) {
			// mkdir -p says ENOTDIR when a directory on its way vanishes under it (a concurrent
			// prune). A file really in the way is found by locate, so look again.
			if (!hasCode(err, "ENOTDIR")) throw err;
			throw new ChainChanged(hostDir, err);
		}
		if (first !== undefined) await syncNewDirectories(first, created);
		if (first === join(found.real, missing[0] as string)) {
			// Every missing directory is this call's own: check it from the base just verified.
			const below = await this.descend(found.host, found.real, missing);
			if (below.missing.length === 0) return below.real;
		}
		// Another request made part of the chain meanwhile: verify the whole of it.
		return this.realDir(hostDir);
	}

	/**
	 * Resolve a host directory from its deepest verified ancestor. realpath(3) costs a readlink
	 * per component (a dozen here, and a small blob push resolves a dozen directories), so
	 * verified directories are cached with their identity (device, inode, birth time: an inode
	 * number can be reused). A cached ancestor is revalidated by one stat of its host path: if
	 * any component has since been swapped for a symlink that leads elsewhere, the path resolves
	 * to another directory and the entry is dropped. Below it, each component is lstat'ed under
	 * the real path so far, and only a symlink pays for a realpath. Returns the real path of the
	 * deepest existing directory and the names missing below it.
	 */
	private async locate(hostDir: string): Promise<Located> {
		if (!this.contains(hostDir)) throw this.escape(hostDir);
		const below: string[] = [];
		let at = hostDir;
		while (at !== this.root) {
			const hit = this.dirs.get(at);
			if (hit !== undefined) {
				const now = await fsp.stat(at, { bigint: true }).catch(() => undefined);
				if (now !== undefined && sameDir(now, hit)) return this.descend(at, hit.real, below);
				this.dirs.delete(at);
			}
			below.unshift(basename(at));
			at = dirname(at);
		}
		return this.descend(this.root, this.root, below);
	}

	/** Walk `names` down from a verified directory (host and real path), caching each one. */
	private async descend(hostAt: string, realAt: string, names: string[]): Promise<Located> {
		let host = hostAt;
		let real = realAt;
		for (let i = 0; i < names.length; i++) {
			const name = names[i] as string;
			const next = join(real, name);
			let info: BigIntStats;
			try {
				info = await fsp.lstat(next, { bigint: true });
			} catch (err) {
				if (hasCode(err, "ENOENT")) return { host, real, missing: names.slice(i) };
				throw err;
			}
			if (info.isSymbolicLink()) {
				real = await fsp.realpath(next);
				if (!this.contains(real)) throw this.escape(join(host, name));
				info = await fsp.stat(real, { bigint: true });
			} else {
				real = next;
			}
			host = join(host, name);
			if (!info.isDirectory()) {
				// Only the last name may be something else (the caller's open or readdir says what).
				if (i < names.length - 1) {
					throw Object.assign(new Error(`ENOTDIR: not a directory, ${host}`), { code: "ENOTDIR" });
				}
				return { host, real, missing: [] };
			}
			if (this.dirs.size >= DIR_CACHE_LIMIT) this.dirs.clear();
			this.dirs.set(host, { real, dev: info.dev, ino: info.ino, born: info.birthtimeNs });
		}
		return { host, real, missing: [] };
	}

	/**
	 * Remove `realDir` and then its ancestors while they are empty, stopping below the root.
	 * Best effort: ENOTEMPTY means the directory is still in use (hidden partial and temporary
	 * files count, so a resumable upload keeps its directory), ENOENT that a concurrent cleanup
	 * got there first and carries on upwards itself.
	 */
	async pruneEmptyDirs(realDir: string): Promise<void> {
		let at = realDir;
		while (at !== this.root && this.contains(at)) {
			try {
				await fsp.rmdir(at);
			} catch {
				return;
			}
			at = dirname(at);
		}
	}

	private escape(hostPath: string): StorageDriverError {
		return new StorageDriverError(this.driver, `path resolves outside the root: ${hostPath}`);
	}
}

/** mkdir -p lost a directory on its way to a concurrent prune: retried like ENOENT. */
class ChainChanged extends Error {
	readonly code = "ENOENT";
	constructor(hostDir: string, cause: unknown) {
		super(`${hostDir} changed while being made`, { cause });
	}
}

interface Located {
	/** Host path of the deepest existing directory. */
	host: string;
	/** Real path of the deepest existing directory. */
	real: string;
	/** Names missing below it, outermost first (empty: the whole path exists). */
	missing: string[];
}

interface VerifiedDir {
	real: string;
	dev: bigint;
	ino: bigint;
	born: bigint;
}

function sameDir(now: BigIntStats, seen: VerifiedDir): boolean {
	return now.ino === seen.ino && now.dev === seen.dev && now.birthtimeNs === seen.born;
}

/** fsync the parent of each directory in first..last, where mkdir -p created first..last. */
async function syncNewDirectories(first: string, last: string): Promise<void> {
	const stop = dirname(first);
	for (let at = dirname(last); ; at = dirname(at)) {
		await fsyncDir(at);
		if (at === stop || at === dirname(at)) return;
	}
}
