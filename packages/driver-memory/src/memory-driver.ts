import type { Readable } from "node:stream";
import {
	checkedDriver,
	type DriverCapabilities,
	type FileInfo,
	type FileWriter,
	isSubpath,
	joinPath,
	PathNotFoundError,
	parentPath,
	type StorageDriver,
	StorageDriverError,
	type WalkFn,
	type WalkOptions,
	type WriterOptions,
	walkFallback,
} from "@stowage/core";
import { bufferStream } from "./buffer-stream.js";
import { MemoryFileWriter, type UploadHost } from "./memory-writer.js";
import {
	type DirNode,
	ensureDir,
	type FileNode,
	lookup,
	lookupDir,
	newDir,
	pruneEmpty,
	type Upload,
} from "./tree.js";

export interface MemoryDriverOptions {
	/** Driver name carried by every error. Default "inmemory". */
	name?: string;
}

const CAPABILITIES: DriverCapabilities = Object.freeze({
	redirect: false,
	serverSideMove: true,
	minPartSize: 0,
	inProcess: true,
});

function baseName(path: string): string {
	return path.slice(path.lastIndexOf("/") + 1);
}

/**
 * Keeps everything in one tree in this process: for tests and single-process development.
 * Every operation runs synchronously inside its promise, so operations never interleave.
 *
 * Behaviour shared with the filesystem driver:
 * - `list` of a file and `getContent`/`reader` of a directory give PathNotFoundError (no
 *   directory, respectively no file, at that path).
 * - A writer's bytes are invisible until commit, but the writer's directory exists from the
 *   moment it is opened (as a filesystem directory holding a hidden partial file does).
 * - `writer(path, {append: true})` continues the uncommitted upload; without one it starts from
 *   the committed content (empty or not, which stays readable until commit replaces it), and
 *   from nothing when the path is missing.
 * - `delete` of a file also discards an uncommitted upload at that path; it is PathNotFound only
 *   when there was neither.
 */
export class MemoryDriver implements StorageDriver, UploadHost {
	readonly name: string;
	readonly capabilities = CAPABILITIES;
	private readonly root: DirNode = newDir();

	constructor(options: MemoryDriverOptions = {}) {
		this.name = options.name ?? "inmemory";
	}

	async getContent(path: string): Promise<Buffer> {
		return Buffer.from(this.file(path).data);
	}

	async putContent(path: string, content: Uint8Array): Promise<void> {
		const dir = ensureDir(this.name, this.root, parentPath(path));
		this.storeFile(dir, path, Buffer.from(content));
	}

	async reader(
		path: string,
		offset = 0,
		options: { signal?: AbortSignal | undefined } = {},
	): Promise<Readable> {
		const { data } = this.file(path);
		return bufferStream(this.name, data.subarray(Math.min(offset, data.length)), options.signal);
	}

	async writer(path: string, options: WriterOptions = {}): Promise<FileWriter> {
		const dir = ensureDir(this.name, this.root, parentPath(path));
		const name = baseName(path);
		let upload = options.append ? dir.uploads.get(name) : undefined;
		if (upload === undefined) {
			const committed = options.append ? dir.children.get(name) : undefined;
			upload =
				committed?.kind === "file"
					? { chunks: [committed.data], size: committed.data.length }
					: { chunks: [], size: 0 };
			dir.uploads.set(name, upload);
		}
		return new MemoryFileWriter(this, path, upload, options.signal);
	}

	async stat(path: string): Promise<FileInfo> {
		const node = lookup(this.root, path);
		if (node === undefined) throw new PathNotFoundError(this.name, path);
		return node.kind === "dir"
			? { path, size: 0, modTime: node.modTime, isDir: true }
			: { path, size: node.data.length, modTime: node.modTime, isDir: false };
	}

	async list(path: string): Promise<string[]> {
		const dir = lookupDir(this.root, path);
		if (dir === undefined) throw new PathNotFoundError(this.name, path);
		return [...dir.children.keys()].sort().map((name) => joinPath(path, name));
	}

	async move(sourcePath: string, destPath: string): Promise<void> {
		const sourceDir = lookupDir(this.root, parentPath(sourcePath));
		const node = sourceDir?.children.get(baseName(sourcePath));
		if (sourceDir === undefined || node === undefined) {
			throw new PathNotFoundError(this.name, sourcePath);
		}
		if (sourcePath === destPath) return;
		if (isSubpath(sourcePath, destPath)) {
			throw new StorageDriverError(this.name, `cannot move ${sourcePath} into itself`);
		}
		const existing = lookup(this.root, destPath);
		// As rename(2): a directory never replaces a file, and nothing replaces a directory here.
		if (existing?.kind === "dir" || (existing !== undefined && node.kind === "dir")) {
			throw new StorageDriverError(this.name, `cannot move ${sourcePath} over ${destPath}`);
		}
		const destDir = ensureDir(this.name, this.root, parentPath(destPath));
		const now = new Date();
		sourceDir.children.delete(baseName(sourcePath));
		sourceDir.modTime = now;
		destDir.children.set(baseName(destPath), node);
		destDir.modTime = now;
		pruneEmpty(this.root, parentPath(sourcePath));
	}

	async delete(path: string): Promise<void> {
		const dir = lookupDir(this.root, parentPath(path));
		const name = baseName(path);
		const removedNode = dir?.children.delete(name) ?? false;
		const removedUpload = dir?.uploads.delete(name) ?? false;
		if (!removedNode && !removedUpload) throw new PathNotFoundError(this.name, path);
		if (removedNode && dir) dir.modTime = new Date();
		pruneEmpty(this.root, parentPath(path));
	}

	async redirectURL(): Promise<string | undefined> {
		return undefined;
	}

	async walk(path: string, fn: WalkFn, options?: WalkOptions): Promise<void> {
		await walkFallback(this, path, fn, options);
	}

	// UploadHost: the writer's view of the tree.

	isAttached(path: string, upload: Upload): boolean {
		return lookupDir(this.root, parentPath(path))?.uploads.get(baseName(path)) === upload;
	}

	commitUpload(path: string, upload: Upload): void {
		const dir = lookupDir(this.root, parentPath(path));
		if (dir === undefined) throw new PathNotFoundError(this.name, path);
		this.storeFile(dir, path, Buffer.concat(upload.chunks, upload.size));
		dir.uploads.delete(baseName(path));
	}

	cancelUpload(path: string, upload: Upload): void {
		const dir = lookupDir(this.root, parentPath(path));
		if (dir === undefined) return;
		const name = baseName(path);
		if (dir.uploads.get(name) === upload) dir.uploads.delete(name);
		if (dir.children.get(name)?.kind === "file") {
			dir.children.delete(name);
			dir.modTime = new Date();
		}
		pruneEmpty(this.root, parentPath(path));
	}

	private file(path: string): FileNode {
		const node = lookup(this.root, path);
		if (node?.kind !== "file") throw new PathNotFoundError(this.name, path);
		return node;
	}

	private storeFile(dir: DirNode, path: string, data: Buffer): void {
		const name = baseName(path);
		if (dir.children.get(name)?.kind === "dir") {
			throw new StorageDriverError(this.name, `is a directory: ${path}`);
		}
		const now = new Date();
		if (!dir.children.has(name)) dir.modTime = now;
		dir.children.set(name, { kind: "file", data, modTime: now });
	}
}

export function createMemoryDriver(options?: MemoryDriverOptions): StorageDriver {
	return checkedDriver(new MemoryDriver(options));
}
