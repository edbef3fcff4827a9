import { constants, type Dirent, fstat, type Stats } from "node:fs";
import * as fsp from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { promisify } from "node:util";
import {
	checkedDriver,
	type DriverCapabilities,
	destroyOnAbort,
	type FileInfo,
	type FileWriter,
	isSubpath,
	joinPath,
	type OperationOptions,
	PathNotFoundError,
	type StorageDriver,
	StorageDriverError,
	type WalkFn,
	type WalkOptions,
	type WriterOptions,
	walkFallback,
} from "@stowage/core";
import { closeFd, closeQuietly, fsyncDir, fsyncFd, openFd, writeAllFd } from "./durable.js";
import { FdReadStream } from "./fd-read-stream.js";
import { hasCode, NOT_FOUND_CODES, throwIfAborted, toDriverError } from "./fs-errors.js";
import { FsFileWriter, type WriterHost } from "./fs-writer.js";
import { isVisibleName, partialPath, tempPath } from "./hidden-names.js";
import { RootedPaths } from "./rooted-paths.js";

export interface FsDriverOptions {
	/** Directory holding the store; created if missing. */
	rootDirectory: string;
	/** Driver name carried by every error. Default "filesystem". */
	name?: string;
	/** Writers coalesce chunks smaller than this before writing. Default 1 MiB. */
	writeBufferSize?: number;
}

const CAPABILITIES: DriverCapabilities = Object.freeze({
	redirect: false,
	serverSideMove: true,
	minPartSize: 0,
	inProcess: false,
});

const DEFAULT_WRITE_BUFFER = 1024 * 1024;

/** Read size of blob streams; see reader. */
const READ_CHUNK = 1024 * 1024;

const fstatFd = promisify(fstat);
const READ_NOFOLLOW = constants.O_RDONLY | constants.O_NOFOLLOW;

/** Attempts when a concurrent cleanup removes a directory between our mkdir and our create. */
const DIR_RACE_ATTEMPTS = 8;

/** Reading a directory as a file means there is no file at the path. */
const NO_FILE_CODES = [...NOT_FOUND_CODES, "EISDIR"];

// Never follow a symlink in the final component of a file the driver creates.
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW;
const { O_EXCL } = constants;

/**
 * Stores each driver path as a file under the root directory. Durable and crash-safe: content
 * reaches its final path only by rename of a fully written, fsynced file, so the final path
 * holds the old or the new complete content, never a mixture.
 *
 * Layout: `/a/b` is `<root>/a/b`. Beside it live hidden names (see hidden-names.ts): a writer's
 * `b~partial` and putContent's `b~tmp~<random>`. Directories exist while they hold anything,
 * hidden files included, so a closed, uncommitted upload keeps its directory; delete, move and
 * cancel remove directories they leave empty, up to the root.
 *
 * Choices where the contract leaves room (the memory driver makes the same ones):
 * - `list` of a file and `getContent`/`reader` of a directory give PathNotFoundError.
 * - Reads follow symlinks that stay inside the root; writes never follow one in the final
 *   component; anything resolving outside the root is refused with StorageDriverError.
 * - `writer(path, {append: true})` continues the partial file; without one it starts from a
 *   copy of the committed file (which stays readable until commit replaces it), or from
 *   nothing when the path is missing.
 * - `delete` of a file also discards an uncommitted upload at that path; it is PathNotFound only
 *   when there was neither.
 * - One writer per path at a time; concurrent writers to one path are not supported.
 */
export class FsDriver implements StorageDriver, WriterHost {
	readonly name: string;
	readonly capabilities = CAPABILITIES;
	private readonly paths: RootedPaths;
	private readonly writeBufferSize: number;

	constructor(options: FsDriverOptions) {
		this.name = options.name ?? "filesystem";
		this.paths = new RootedPaths(this.name, options.rootDirectory);
		this.writeBufferSize = Math.max(1, options.writeBufferSize ?? DEFAULT_WRITE_BUFFER);
	}

	/** Real path of the root directory. */
	get rootDirectory(): string {
		return this.paths.root;
	}

	async getContent(path: string, options: OperationOptions = {}): Promise<Buffer> {
		try {
			throwIfAborted(this.name, "getContent", options.signal);
			const host = this.paths.hostPath(path);
			// Manifests and links are read on every request: open under the parent's verified (cached)
			// real path without following a final link, which spares a realpath of the whole path;
			// only a link pays for full resolution.
			try {
				const entry = await this.paths.realEntry(host);
				return await fsp.readFile(entry, { flag: READ_NOFOLLOW, signal: options.signal });
			} catch (err) {
				if (!hasCode(err, "ELOOP")) throw err;
			}
			return await fsp.readFile(await this.paths.real(host), { signal: options.signal });
		} catch (err) {
			throw toDriverError(this.name, "getContent", path, err, NO_FILE_CODES);
		}
	}

	async putContent(
		path: string,
		content: Uint8Array,
		options: OperationOptions = {},
	): Promise<void> {
		const { signal } = options;
		try {
			throwIfAborted(this.name, "putContent", signal);
			const host = this.paths.hostPath(path);
			// Raw descriptor calls: putContent runs several times per push (links, upload state) and a
			// FileHandle costs the main thread more per call than a plain fd.
			const { dir, file: temp, handle: fd } = await this.besideWith(host, tempPath, O_EXCL, openFd);
			const target = join(dir, basename(host));
			let open = true;
			try {
				await writeAllFd(fd, content, () => throwIfAborted(this.name, "putContent", signal));
				await fsyncFd(fd);
				open = false;
				await closeFd(fd);
				throwIfAborted(this.name, "putContent", signal);
				await fsp.rename(temp, target);
			} catch (err) {
				if (open) await closeFd(fd).catch(() => undefined);
				await fsp.rm(temp, { force: true });
				await this.paths.pruneEmptyDirs(dir);
				throw err;
			}
			await fsyncDir(dir);
		} catch (err) {
			throw toDriverError(this.name, "putContent", path, err);
		}
	}

	async reader(path: string, offset = 0, options: OperationOptions = {}): Promise<Readable> {
		const { signal } = options;
		let fd: number | undefined;
		try {
			throwIfAborted(this.name, "reader", signal);
			fd = await this.openForRead(this.paths.hostPath(path));
			const info = await fstatFd(fd);
			if (info.isDirectory()) throw new PathNotFoundError(this.name, path);
			throwIfAborted(this.name, "reader", signal);
			// A plain fd with 1 MiB reads: a FileHandle stream reads 64 KiB at a time through a promise
			// per chunk, and that per-chunk cost on the main thread (a threadpool round trip, a
			// promise, a new Buffer, a socket write) bounded blob GETs far below disk speed.
			const stream = new FdReadStream(fd, offset, READ_CHUNK, (err) =>
				toDriverError(this.name, "reader", path, err),
			);
			fd = undefined; // The stream owns it now and closes it when it ends or is destroyed.
			if (signal) destroyOnAbort(this.name, stream, signal);
			return stream;
		} catch (err) {
			if (fd !== undefined) await closeFd(fd).catch(() => undefined);
			throw toDriverError(this.name, "reader", path, err, NO_FILE_CODES);
		}
	}

	async writer(path: string, options: WriterOptions = {}): Promise<FileWriter> {
		const { signal } = options;
		try {
			throwIfAborted(this.name, "writer", signal);
			const host = this.paths.hostPath(path);
			const opened = options.append
				? await this.openPartialForAppend(host)
				: await this.createBeside(host, partialPath, constants.O_TRUNC);
			const { size } = await opened.handle.stat();
			if (signal?.aborted) {
				// Nobody will use this writer: leave no file or directory that did not exist before.
				await closeQuietly(opened.handle);
				if (opened.created) {
					await fsp.rm(opened.file, { force: true });
					await this.paths.pruneEmptyDirs(opened.dir);
				}
				throwIfAborted(this.name, "writer", signal);
			}
			return new FsFileWriter(this, {
				path,
				target: join(opened.dir, basename(host)),
				partial: opened.file,
				handle: opened.handle,
				size,
				created: opened.created,
				bufferSize: this.writeBufferSize,
				signal,
			});
		} catch (err) {
			throw toDriverError(this.name, "writer", path, err);
		}
	}

	async stat(path: string, options: OperationOptions = {}): Promise<FileInfo> {
		try {
			throwIfAborted(this.name, "stat", options.signal);
			const host = this.paths.hostPath(path);
			// As in getContent: lstat under the verified parent; resolve fully only for a link.
			let info = await fsp.lstat(await this.paths.realEntry(host));
			if (info.isSymbolicLink()) info = await fsp.stat(await this.paths.real(host));
			const isDir = info.isDirectory();
			return { path, size: isDir ? 0 : info.size, modTime: new Date(info.mtimeMs), isDir };
		} catch (err) {
			throw toDriverError(this.name, "stat", path, err, NOT_FOUND_CODES);
		}
	}

	async list(path: string, options: OperationOptions = {}): Promise<string[]> {
		try {
			throwIfAborted(this.name, "list", options.signal);
			const names = await fsp.readdir(await this.paths.realDir(this.paths.hostPath(path)));
			return names
				.filter(isVisibleName)
				.sort()
				.map((name) => joinPath(path, name));
		} catch (err) {
			throw toDriverError(this.name, "list", path, err, NOT_FOUND_CODES);
		}
	}

	async move(sourcePath: string, destPath: string, options: OperationOptions = {}): Promise<void> {
		let source: string;
		let dest: string;
		try {
			throwIfAborted(this.name, "move", options.signal);
			dest = this.paths.hostPath(destPath);
			source = await this.paths.realEntry(this.paths.hostPath(sourcePath));
			await fsp.lstat(source);
		} catch (err) {
			throw toDriverError(this.name, "move", sourcePath, err, NOT_FOUND_CODES);
		}
		try {
			if (sourcePath !== destPath && isSubpath(sourcePath, destPath)) {
				throw new StorageDriverError(this.name, `cannot move ${sourcePath} into itself`);
			}
			for (let attempt = 1; ; attempt++) {
				throwIfAborted(this.name, "move", options.signal);
				const destDir = await this.paths.ensureDir(dirname(dest));
				try {
					await fsp.rename(source, join(destDir, basename(dest)));
					await fsyncDir(destDir);
					break;
				} catch (err) {
					if (!hasCode(err, "ENOENT")) throw err;
					if (!(await exists(source))) throw new PathNotFoundError(this.name, sourcePath);
					// The destination directory was pruned by a concurrent cleanup: recreate it.
					if (attempt >= DIR_RACE_ATTEMPTS) throw err;
				}
			}
		} catch (err) {
			throw toDriverError(this.name, "move", destPath, err, []);
		}
		await this.paths.pruneEmptyDirs(dirname(source));
	}

	async delete(path: string, options: OperationOptions = {}): Promise<void> {
		try {
			throwIfAborted(this.name, "delete", options.signal);
			const entry = await this.paths.realEntry(this.paths.hostPath(path));
			let found = await removeTree(entry);
			// The uncommitted upload of a file path goes with it.
			found = (await removeIfPresent(partialPath(entry))) || found;
			if (!found) throw new PathNotFoundError(this.name, path);
			await this.paths.pruneEmptyDirs(dirname(entry));
		} catch (err) {
			throw toDriverError(this.name, "delete", path, err, NOT_FOUND_CODES);
		}
	}

	async redirectURL(): Promise<string | undefined> {
		return undefined;
	}

	async walk(path: string, fn: WalkFn, options?: WalkOptions): Promise<void> {
		await walkFallback(this, path, fn, options);
	}

	pruneEmptyDirs(realDir: string): Promise<void> {
		return this.paths.pruneEmptyDirs(realDir);
	}

	/** Open for reading under the verified parent, as getContent does; a link is resolved fully. */
	private async openForRead(host: string): Promise<number> {
		try {
			return await openFd(await this.paths.realEntry(host), READ_NOFOLLOW);
		} catch (err) {
			if (!hasCode(err, "ELOOP")) throw err;
		}
		return openFd(await this.paths.real(host), "r");
	}

	/**
	 * Create a hidden file beside `host` (mkdir -p first). A concurrent cleanup may remove the
	 * freshly made directory before the file exists in it; then create both again.
	 */
	private createBeside(
		host: string,
		nameFor: (target: string) => string,
		extraFlags = O_EXCL,
	): Promise<Opened> {
		return this.besideWith(host, nameFor, extraFlags, fsp.open);
	}

	/** createBeside with the open call of the caller's choice (a FileHandle or a raw fd). */
	private async besideWith<H>(
		host: string,
		nameFor: (target: string) => string,
		extraFlags: number,
		openFile: (file: string, flags: number, mode: number) => Promise<H>,
	): Promise<Opened<H>> {
		for (let attempt = 1; ; attempt++) {
			const dir = await this.paths.ensureDir(dirname(host));
			const file = nameFor(join(dir, basename(host)));
			try {
				const handle = await openFile(file, CREATE_FLAGS | extraFlags, 0o644);
				return { dir, file, handle, created: true };
			} catch (err) {
				if (!hasCode(err, "ENOENT") || attempt >= DIR_RACE_ATTEMPTS) throw err;
			}
		}
	}

	/**
	 * Reopen the partial file. Without one, seed it from the committed file: copied under a
	 * temporary name and renamed, so a crash mid-copy never leaves a short partial file that a
	 * later session would take for uploaded bytes.
	 */
	private async openPartialForAppend(host: string): Promise<Opened> {
		for (let attempt = 1; ; attempt++) {
			const dir = await this.paths.ensureDir(dirname(host));
			const target = join(dir, basename(host));
			const partial = partialPath(target);
			try {
				const handle = await fsp.open(partial, constants.O_WRONLY | constants.O_NOFOLLOW);
				return { dir, file: partial, handle, created: false };
			} catch (err) {
				if (!hasCode(err, "ENOENT")) throw err;
			}
			const committed = await fsp.lstat(target).catch((err: unknown) => {
				if (hasCode(err, "ENOENT")) return undefined;
				throw err;
			});
			if (!committed?.isFile()) return this.createBeside(host, partialPath, 0);
			const seed = tempPath(target);
			try {
				await fsp.copyFile(target, seed, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
				await fsp.rename(seed, partial);
				const handle = await fsp.open(partial, constants.O_WRONLY | constants.O_NOFOLLOW);
				return { dir, file: partial, handle, created: true };
			} catch (err) {
				await fsp.rm(seed, { force: true });
				// The target or the directory vanished meanwhile: look again.
				if (!hasCode(err, "ENOENT") || attempt >= DIR_RACE_ATTEMPTS) throw err;
			}
		}
	}
}

interface Opened<H = fsp.FileHandle> {
	/** Real path of the directory holding the target. */
	dir: string;
	/** Host path of the hidden file opened. */
	file: string;
	handle: H;
	/** The file's name is new in `dir`: the directory needs an fsync to make it durable. */
	created: boolean;
}

async function exists(hostPath: string): Promise<boolean> {
	try {
		await fsp.lstat(hostPath);
		return true;
	} catch {
		return false;
	}
}

/**
 * rm -r that never follows a link, in about half the calls of fs.rm's (which lstats every entry
 * and tries rmdir before reading each directory): one lstat, then readdir with entry types. Every
 * blob push deletes its upload directory, so this is on the hot path. False when nothing was there.
 */
async function removeTree(hostPath: string): Promise<boolean> {
	let top: Stats;
	try {
		top = await fsp.lstat(hostPath);
	} catch (err) {
		if (hasCode(err, "ENOENT")) return false;
		throw err;
	}
	if (top.isDirectory()) await removeDir(hostPath);
	else await unlinkIfPresent(hostPath);
	return true;
}

async function removeDir(dir: string): Promise<void> {
	let entries: Dirent[];
	try {
		entries = await fsp.readdir(dir, { withFileTypes: true });
	} catch (err) {
		if (hasCode(err, "ENOENT")) return; // A concurrent delete got there first.
		throw err;
	}
	// In parallel, like fs.rm: an upload's hashstates directory holds one file per PATCH.
	// Dirent types come from lstat semantics: a link is unlinked, never descended into.
	await Promise.all(
		entries.map((entry) => {
			const path = join(dir, entry.name);
			return entry.isDirectory() ? removeDir(path) : unlinkIfPresent(path);
		}),
	);
	try {
		await fsp.rmdir(dir);
	} catch (err) {
		if (!hasCode(err, "ENOENT")) throw err;
	}
}

async function unlinkIfPresent(hostPath: string): Promise<void> {
	try {
		await fsp.unlink(hostPath);
	} catch (err) {
		if (!hasCode(err, "ENOENT")) throw err;
	}
}

async function removeIfPresent(hostPath: string, options: { recursive?: boolean } = {}) {
	try {
		await fsp.rm(hostPath, options);
		return true;
	} catch (err) {
		if (hasCode(err, "ENOENT")) return false;
		throw err;
	}
}

export function createFsDriver(options: FsDriverOptions): StorageDriver {
	return checkedDriver(new FsDriver(options));
}
