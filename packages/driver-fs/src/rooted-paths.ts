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
		const real = await fsp.realpath(hostPath);
		if (!this.contains(real)) throw this.escape(hostPath);
		return real;
	}

	/**
	 * Real path of an existing directory, refused outside the root. realpath(3) costs a readlink
	 * per path component (about 10 here, 200+ syscalls per small blob push), so verified
	 * directories are cached with their identity (device, inode, birth time: an inode number can
	 * be reused) and a hit is revalidated by one stat of the host path: if any component has since
	 * been swapped for a symlink that leads elsewhere, the path resolves to another directory and
	 * the full check runs again. (Like the uncached check,
	 * this is a check at one moment: it does not stop a swap between the check and the use.)
	 */
	async realDir(hostDir: string): Promise<string> {
		const hit = this.dirs.get(hostDir);
		if (hit !== undefined) {
			const now = await fsp.stat(hostDir, { bigint: true }).catch(() => undefined);
			if (now !== undefined && sameDir(now, hit)) return hit.real;
			this.dirs.delete(hostDir);
		}
		const real = await this.real(hostDir);
		const info = await fsp.stat(real, { bigint: true });
		if (!info.isDirectory()) return real;
		if (this.dirs.size >= DIR_CACHE_LIMIT) this.dirs.clear();
		this.dirs.set(hostDir, { real, dev: info.dev, ino: info.ino, born: info.birthtimeNs });
		return real;
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
				if (!hasCode(err, "ENOENT") || attempt >= MKDIR_ATTEMPTS) throw err;
			}
		}
	}

	private async ensureDirOnce(hostDir: string): Promise<string> {
		try {
			return await this.realDir(hostDir);
		} catch (err) {
			if (!hasCode(err, "ENOENT")) throw err;
		}
		const missing: string[] = [];
		let at = hostDir;
		let base: string | undefined;
		while (base === undefined) {
			missing.unshift(basename(at));
			at = dirname(at);
			if (!this.contains(at)) throw this.escape(hostDir);
			try {
				base = await this.realDir(at);
			} catch (err) {
				if (!hasCode(err, "ENOENT")) throw err;
			}
		}
		const created = join(base, ...missing);
		const first = await fsp.mkdir(created, { recursive: true });
		if (first !== undefined) await syncNewDirectories(first, created);
		return this.realDir(hostDir);
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
