import { StorageDriverError } from "@stowage/core";
import { decodeBlockId, newToken } from "./block-ids.js";

/**
 * An upload in progress is persisted in two places:
 *
 * - staged (uncommitted) blocks of the target blob, each exactly `blocksize` bytes, with ids that
 *   give their upload and position (block-ids.ts);
 * - the upload's *tail blob*, a hidden append blob (blob-names.ts) whose metadata says which
 *   upload of the path is current, and whose content is the bytes after the last full block
 *   (less than one block: what the last sessions closed with).
 *
 * This module turns what Azure reports about both into the state a resumed writer continues
 * from. It is pure, so every branch is tested without a backend.
 */

/** Metadata names on the tail blob (Azure metadata names are case-insensitive identifiers). */
export const META = {
	upload: "stowageupload",
	base: "stowagebase",
	start: "stowagestart",
	blocks: "stowageblocks",
} as const;

/** `base` of an upload whose path had no committed blob when it started. */
export const NO_BASE = "none";

export interface TailMeta {
	/** The upload token of the current upload. */
	upload: string;
	/** ETag of the committed blob the upload began over, or NO_BASE. */
	base: string;
	/** Committed blocks the upload continues (an append to committed content), else 0. */
	start: number;
	/** How many blocks precede the tail's bytes. */
	blocks: number;
}

export function tailMetadata(meta: TailMeta): Record<string, string> {
	return {
		[META.upload]: meta.upload,
		[META.base]: meta.base,
		[META.start]: String(meta.start),
		[META.blocks]: String(meta.blocks),
	};
}

export function parseTailMetadata(md: Record<string, string> | undefined): TailMeta | undefined {
	if (!md) return undefined;
	const upload = md[META.upload];
	const base = md[META.base];
	const start = Number(md[META.start]);
	const blocks = Number(md[META.blocks]);
	if (!upload || !/^[0-9a-f]{8}$/.test(upload) || !base) return undefined;
	if (!Number.isSafeInteger(start) || start < 0 || !Number.isSafeInteger(blocks) || blocks < 0) {
		return undefined;
	}
	return { upload, base, start, blocks };
}

export interface ListedBlock {
	readonly name: string;
	readonly size: number;
}

/** What the backend says about a path: three requests, made in parallel. */
export interface UploadSnapshot {
	/** The committed blob at the path (getProperties), if any. */
	committed?: { etag: string; size: number } | undefined;
	committedBlocks: readonly ListedBlock[];
	uncommittedBlocks: readonly ListedBlock[];
	/** The tail blob (getProperties), if any. */
	tail?:
		| { etag: string; size: number; appends: number; metadata?: Record<string, string> }
		| undefined;
}

export interface TailBlob {
	etag: string;
	/** Bytes in the tail blob. */
	size: number;
	/** Append blocks used (an append blob holds at most 50,000). */
	appends: number;
	/** Blocks preceding its bytes; when fewer than the upload has, the bytes were promoted. */
	blocksBefore: number;
	/** Its metadata describes the current upload (otherwise it is a leftover to replace). */
	owned: boolean;
}

export interface UploadState {
	upload: string;
	/** ETag of the committed blob the upload began over; commit requires it unchanged. */
	base: string | undefined;
	start: number;
	/** The blocks holding the upload's first bytes, in order. */
	blocks: ListedBlock[];
	tail: TailBlob | undefined;
	/** Any uncommitted block exists on the blob (this upload's or a leftover's). */
	hasUncommitted: boolean;
}

/** Bytes of the tail blob that belong after the upload's blocks (0 once promoted into one). */
export function tailBytes(state: Pick<UploadState, "blocks" | "tail">): number {
	const t = state.tail;
	return t?.owned && t.blocksBefore === state.blocks.length ? t.size : 0;
}

/**
 * The upload a resumed writer continues.
 *
 * - A tail blob whose `base` matches the committed blob (or its absence) names the current
 *   upload: its blocks are the committed ones it continues (`start`) followed by its own staged
 *   blocks, sorted by position; its tail bytes count when no block was staged after them.
 * - Otherwise no upload is in progress (a stale tail blob is left over from one that was
 *   committed or overwritten): a new one starts, continuing the committed content when there is
 *   some. Content written by putContent has no blocks to continue and cannot be appended to.
 */
export function resolveUpload(driver: string, path: string, snap: UploadSnapshot): UploadState {
	const base = snap.committed?.etag;
	const meta = parseTailMetadata(snap.tail?.metadata);
	const hasUncommitted = snap.uncommittedBlocks.length > 0;
	if (snap.tail && meta && meta.base === (base ?? NO_BASE)) {
		const prefix = meta.start > 0 ? continuedBlocks(driver, path, snap, meta.start) : [];
		const own = ownBlocks(driver, path, snap.uncommittedBlocks, meta.upload, meta.start);
		return {
			upload: meta.upload,
			base,
			start: meta.start,
			blocks: [...prefix, ...own],
			tail: {
				etag: snap.tail.etag,
				size: snap.tail.size,
				appends: snap.tail.appends,
				blocksBefore: meta.blocks,
				owned: true,
			},
			hasUncommitted,
		};
	}
	const stale: TailBlob | undefined = snap.tail && {
		etag: snap.tail.etag,
		size: 0,
		appends: 0,
		blocksBefore: 0,
		owned: false,
	};
	const fresh = { upload: newToken(), base, tail: stale, hasUncommitted };
	if (!snap.committed || snap.committed.size === 0) return { ...fresh, start: 0, blocks: [] };
	const start = snap.committedBlocks.length;
	const blocks = continuedBlocks(driver, path, snap, start);
	return { ...fresh, start, blocks };
}

/** The committed blocks an append continues: written by this driver, covering the blob. */
function continuedBlocks(
	driver: string,
	path: string,
	snap: UploadSnapshot,
	start: number,
): ListedBlock[] {
	const committed = snap.committedBlocks;
	const total = committed.reduce((sum, b) => sum + b.size, 0);
	const ours = committed.every((b) => decodeBlockId(b.name) !== undefined);
	if (committed.length !== start || !ours || total !== snap.committed?.size) {
		throw new StorageDriverError(
			driver,
			`cannot append to ${path}: its committed content was not written by this driver's writer`,
		);
	}
	return [...committed];
}

/** This upload's staged blocks in position order; a gap or a doubled position is an error. */
function ownBlocks(
	driver: string,
	path: string,
	uncommitted: readonly ListedBlock[],
	upload: string,
	start: number,
): ListedBlock[] {
	const own = uncommitted
		.map((b) => ({ block: b, id: decodeBlockId(b.name) }))
		.filter((x) => x.id?.upload === upload)
		.sort((a, b) => (a.id?.seq ?? 0) - (b.id?.seq ?? 0));
	for (const [i, x] of own.entries()) {
		const seq = x.id?.seq;
		if (seq === start + i) continue;
		const what =
			seq === start + i - 1
				? `two writers staged block ${seq} (concurrent writers on one upload)`
				: `block ${start + i} is missing`;
		throw new StorageDriverError(driver, `upload state of ${path} is inconsistent: ${what}`);
	}
	return own.map((x) => x.block);
}
