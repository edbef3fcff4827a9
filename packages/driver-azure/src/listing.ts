import type { BlobItem, ContainerClient } from "@azure/storage-blob";
import {
	type FileInfo,
	OperationAbortedError,
	PathNotFoundError,
	type WalkFn,
	type WalkOptions,
} from "@stowage/core";
import { type BlobNames, isVisibleComponent } from "./blob-names.js";

/** Azure's largest page. */
const PAGE = 5000;

/** A directory has no time of its own on a blob store. */
const DIR_TIME = new Date(0);

/**
 * Names of the direct children of `path`, from a `/`-delimited listing: blobs and blob-name
 * prefixes ("directories"). A name that is both appears once; names no driver path could have
 * (the driver's hidden `~stowage`, foreign blobs) are left out.
 */
export async function listChildren(
	container: ContainerClient,
	names: BlobNames,
	path: string,
	signal: AbortSignal | undefined,
): Promise<string[]> {
	const prefix = names.dir(path);
	const children = new Set<string>();
	const pages = container
		.listBlobsByHierarchy("/", { prefix, abortSignal: signal })
		.byPage({ maxPageSize: PAGE });
	for await (const page of pages) {
		for (const p of page.segment.blobPrefixes ?? []) {
			const name = p.name.slice(prefix.length, -1);
			if (isVisibleComponent(name)) children.add(name);
		}
		for (const b of page.segment.blobItems) {
			const name = b.name.slice(prefix.length);
			if (isVisibleComponent(name)) children.add(name);
		}
	}
	return [...children].sort().map((name) => (path === "/" ? `/${name}` : `${path}/${name}`));
}

/** Whether anything visible lies below `path` (so that it is a directory). */
export async function hasVisibleBelow(
	container: ContainerClient,
	names: BlobNames,
	path: string,
	signal: AbortSignal | undefined,
): Promise<boolean> {
	const pages = container
		.listBlobsFlat({ prefix: names.dir(path), abortSignal: signal })
		.byPage({ maxPageSize: 50 });
	for await (const page of pages) {
		for (const b of page.segment.blobItems) {
			if (names.pathBelow(path, b.name) !== undefined) return true;
		}
	}
	return false;
}

/** Every blob whose name starts with `prefix`, a page at a time. */
export async function* blobPages(
	container: ContainerClient,
	prefix: string,
	options: { uncommitted?: boolean; signal?: AbortSignal | undefined; pageSize?: number },
): AsyncGenerator<BlobItem[]> {
	const pages = container
		.listBlobsFlat({
			prefix,
			includeUncommitedBlobs: options.uncommitted,
			abortSignal: options.signal,
		})
		.byPage({ maxPageSize: options.pageSize ?? PAGE });
	for await (const page of pages) yield page.segment.blobItems;
}

export function fileInfo(path: string, item: BlobItem): FileInfo {
	return {
		path,
		size: item.properties.contentLength ?? 0,
		modTime: item.properties.lastModified,
		isDir: false,
	};
}

/**
 * Walk by one flat listing of everything below `from` (a request per 5,000 blobs, instead of a
 * list per directory and a stat per entry). Blob names come in full-key order, in which each
 * directory's contents are contiguous: directories are announced when their first blob comes
 * up, kept on a stack while open, and a skipped directory's blobs are passed over.
 *
 * The order is full-key order with directories keyed `dir/` (as S3's walk in Distribution);
 * `startAfter` only suppresses callbacks for entries that sort at or before it. A name that is
 * both a blob and a directory is visited as both.
 */
export async function walkFlat(
	container: ContainerClient,
	names: BlobNames,
	driver: string,
	from: string,
	fn: WalkFn,
	options: WalkOptions = {},
): Promise<void> {
	const { signal, startAfter } = options;
	const base = from === "/" ? "" : from;
	const open: string[] = [];
	let skipping: string | undefined;
	let seen = false;
	const visit = async (info: FileInfo) => {
		if (signal?.aborted) {
			throw new OperationAbortedError(driver, "walk", { cause: signal.reason });
		}
		if (startAfter !== undefined && info.path <= startAfter) return undefined;
		return fn(info);
	};

	for await (const items of blobPages(container, names.dir(from), { signal })) {
		for (const item of items) {
			const path = names.pathBelow(from, item.name);
			if (path === undefined) continue;
			seen = true;
			if (skipping !== undefined && path.startsWith(skipping)) continue;
			skipping = undefined;
			const parts = path.slice(base.length + 1).split("/");
			// Directories on the way to this blob: keep those still open, announce the new ones.
			let depth = 0;
			let dir = base;
			while (depth < parts.length - 1) {
				dir = `${dir}/${parts[depth]}`;
				if (open[depth] !== dir) break;
				depth++;
			}
			open.length = depth;
			let skipped = false;
			for (let i = depth; i < parts.length - 1; i++) {
				const d = `${open.length === 0 ? base : open[open.length - 1]}/${parts[i]}`;
				open.push(d);
				const control = await visit({ path: d, size: 0, modTime: DIR_TIME, isDir: true });
				if (control === "stop") return;
				if (control === "skip") {
					skipping = `${d}/`;
					skipped = true;
					break;
				}
			}
			if (skipped) continue;
			if ((await visit(fileInfo(path, item))) === "stop") return;
		}
	}
	if (!seen && from !== "/") throw new PathNotFoundError(driver, from);
}
