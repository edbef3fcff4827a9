import {
	AbortMultipartUploadCommand,
	DeleteObjectsCommand,
	ListMultipartUploadsCommand,
	type ListMultipartUploadsCommandOutput,
	ListObjectsV2Command,
	ListPartsCommand,
	PutObjectCommand,
} from "@aws-sdk/client-s3";
import { StorageDriverError } from "@stowage/core";
import type { DriverContext } from "./context.js";
import { isNoSuchUpload, isUnsupported } from "./errors.js";

/**
 * The resumable state of one uncommitted file, all of it in S3 (no process keeps any):
 *
 *   <state>/mpu.<partSize>.<uploadId>  the multipart upload holding the full parts, if any
 *   <state>/mpu-pending                a CreateMultipartUpload may be in flight (crash window)
 *   <state>/tail.<offset>              a tail segment: bytes [offset, offset+size) of the file
 *   <state>/open                       an empty session (nothing written yet)
 *   <state>/part.<n>.<size>.<etag>     part n, recorded only on stores without ListParts
 *
 * The file's bytes are the MPU's parts (each exactly partSize) followed by the tail segments
 * that chain on from the parts' end. The size is therefore sum(ListParts, every page) plus the
 * chain's length; nothing else is counted and no counter is stored.
 */
export interface Segment {
	key: string;
	offset: number;
	size: number;
}

export interface Part {
	PartNumber: number;
	ETag: string;
	Size: number;
}

export interface StoredState {
	/** Every object in the state directory. */
	keys: Set<string>;
	uploadId: string | undefined;
	partSize: number | undefined;
	/** More than one marker: a crash or a concurrent writer left extra uploads. */
	extraUploads: string[];
	pending: boolean;
	segments: Segment[];
	/** Parts recorded by markers (stores without ListParts). */
	partMarkers: Part[];
}

export const OPEN = "open";
export const PENDING = "mpu-pending";
const MPU_RE = /^mpu\.(\d+)\.([A-Za-z0-9_-]+)$/;
const TAIL_RE = /^tail\.(\d{16})$/;
const PART_RE = /^part\.(\d{5})\.(\d+)\.([A-Za-z0-9_-]+)$/;

export function partMarkerName(part: Part): string {
	return `part.${String(part.PartNumber).padStart(5, "0")}.${part.Size}.${Buffer.from(part.ETag, "utf8").toString("base64url")}`;
}

export function markerName(partSize: number, uploadId: string): string {
	return `mpu.${partSize}.${Buffer.from(uploadId, "utf8").toString("base64url")}`;
}

export function segmentName(offset: number): string {
	return `tail.${String(offset).padStart(16, "0")}`;
}

/** Read the state directory (one listing, usually one page). */
export async function loadState(
	ctx: DriverContext,
	stateDir: string,
	signal?: AbortSignal,
): Promise<StoredState> {
	const state: StoredState = {
		keys: new Set(),
		uploadId: undefined,
		partSize: undefined,
		extraUploads: [],
		pending: false,
		segments: [],
		partMarkers: [],
	};
	let token: string | undefined;
	do {
		const page = await ctx.client.send(
			new ListObjectsV2Command({ Bucket: ctx.bucket, Prefix: stateDir, ContinuationToken: token }),
			{ abortSignal: signal },
		);
		for (const object of page.Contents ?? []) {
			const key = object.Key as string;
			state.keys.add(key);
			const name = key.slice(stateDir.length);
			const mpu = MPU_RE.exec(name);
			const tail = TAIL_RE.exec(name);
			const part = PART_RE.exec(name);
			if (mpu) {
				const uploadId = Buffer.from(mpu[2] as string, "base64url").toString("utf8");
				if (state.uploadId === undefined) {
					state.uploadId = uploadId;
					state.partSize = Number(mpu[1]);
				} else state.extraUploads.push(uploadId);
			} else if (tail) {
				state.segments.push({ key, offset: Number(tail[1]), size: object.Size ?? 0 });
			} else if (part) {
				state.partMarkers.push({
					PartNumber: Number(part[1]),
					Size: Number(part[2]),
					ETag: Buffer.from(part[3] as string, "base64url").toString("utf8"),
				});
			} else if (name === PENDING) state.pending = true;
		}
		token = page.IsTruncated ? page.NextContinuationToken : undefined;
	} while (token);
	return state;
}

/** Every part of the upload, across all ListParts pages (S3 returns at most 1,000 per page). */
export async function listAllParts(
	ctx: DriverContext,
	key: string,
	uploadId: string,
	signal?: AbortSignal,
): Promise<Part[]> {
	const parts: Part[] = [];
	let marker: string | undefined;
	for (;;) {
		const page = await ctx.client.send(
			new ListPartsCommand({
				Bucket: ctx.bucket,
				Key: key,
				UploadId: uploadId,
				PartNumberMarker: marker,
			}),
			{ abortSignal: signal },
		);
		for (const p of page.Parts ?? []) {
			parts.push({ PartNumber: p.PartNumber as number, ETag: p.ETag as string, Size: p.Size ?? 0 });
		}
		if (!page.IsTruncated) break;
		const next = page.NextPartNumberMarker ?? String(parts.at(-1)?.PartNumber ?? "");
		// Some S3-compatible stores repeat the marker forever (Distribution #4220): stop, loudly.
		if (next === "" || next === marker) {
			throw new StorageDriverError(
				ctx.name,
				`ListParts of ${key} did not advance past part ${marker ?? 0}`,
			);
		}
		marker = next;
	}
	return parts.sort((a, b) => a.PartNumber - b.PartNumber);
}

/**
 * The parts that count: 1..n without a gap, each exactly `partSize`. A shorter last part is the
 * final part of a commit that failed before CompleteMultipartUpload; its bytes are still in the
 * tail segments, so it is left out (and overwritten by the next commit).
 */
export function usableParts(
	ctx: DriverContext,
	key: string,
	parts: Part[],
	partSize: number,
): Part[] {
	const usable: Part[] = [];
	for (const [i, part] of parts.entries()) {
		if (part.PartNumber !== i + 1) break;
		if (part.Size !== partSize) {
			if (i === parts.length - 1 && part.Size < partSize) break;
			throw new StorageDriverError(
				ctx.name,
				`upload state of ${key} is inconsistent: part ${part.PartNumber} is ${part.Size} bytes, not ${partSize}`,
			);
		}
		usable.push(part);
	}
	return usable;
}

/**
 * The tail: segments chained from `from` (where the parts end). Segments before that point are
 * stale (consumed by a part, or merged into a longer segment at the same offset) and are
 * deleted later; where two start at one offset the longer one wins.
 */
export function tailChain(
	segments: Segment[],
	from: number,
): { chain: Segment[]; stale: Segment[] } {
	const sorted = [...segments].sort((a, b) => a.offset - b.offset || b.size - a.size);
	const chain: Segment[] = [];
	const stale: Segment[] = [];
	let pos = from;
	for (const s of sorted) {
		if (s.offset === pos && s.size > 0) {
			chain.push(s);
			pos += s.size;
		} else if (s.offset + s.size <= pos) {
			stale.push(s);
		} else if (s.offset < pos) {
			throw new Error(`tail segment at ${s.offset} overlaps the data before ${pos}`);
		} else {
			// After a gap: unreachable bytes, never acknowledged as one contiguous file.
			stale.push(s);
		}
	}
	return { chain, stale };
}

export async function putMarker(
	ctx: DriverContext,
	key: string,
	signal?: AbortSignal,
): Promise<void> {
	await ctx.client.send(
		new PutObjectCommand({ Bucket: ctx.bucket, Key: key, Body: Buffer.alloc(0) }),
		{
			abortSignal: signal,
		},
	);
}

/** DeleteObjects in batches of at most 1,000 keys; any per-key error fails the call. */
export async function deleteKeys(
	ctx: DriverContext,
	keys: Iterable<string>,
	signal?: AbortSignal,
): Promise<number> {
	const all = [...new Set(keys)];
	for (let i = 0; i < all.length; i += 1000) {
		const batch = all.slice(i, i + 1000);
		const out = await ctx.client.send(
			new DeleteObjectsCommand({
				Bucket: ctx.bucket,
				Delete: { Quiet: true, Objects: batch.map((Key) => ({ Key })) },
			}),
			{ abortSignal: signal },
		);
		const failed = (out.Errors ?? []).filter((e) => e.Code !== "NoSuchKey");
		if (failed.length > 0) {
			const first = failed[0];
			throw new StorageDriverError(
				ctx.name,
				`DeleteObjects failed for ${failed.length} key(s), first ${first?.Key}: ${first?.Code} ${first?.Message ?? ""}`,
			);
		}
	}
	return all.length;
}

export async function abortUpload(
	ctx: DriverContext,
	key: string,
	uploadId: string,
	signal?: AbortSignal,
): Promise<void> {
	try {
		await ctx.client.send(
			new AbortMultipartUploadCommand({ Bucket: ctx.bucket, Key: key, UploadId: uploadId }),
			{
				abortSignal: signal,
			},
		);
	} catch (err) {
		// Already gone (aborted or completed): the goal is reached. A store without the
		// operation (s3rver) cannot abort at all; its parts stay until it is emptied.
		if (!isNoSuchUpload(err) && !isUnsupported(err)) throw err;
	}
}

/**
 * Abort multipart uploads of exactly `key` that no marker names: ones created in the window
 * between CreateMultipartUpload and writing its marker (a crash, or a retried create whose first
 * answer was lost). Stores without ListMultipartUploads (s3rver) cannot be swept; a bucket
 * lifecycle rule (AbortIncompleteMultipartUpload) covers them.
 */
export async function sweepOrphanUploads(
	ctx: DriverContext,
	key: string,
	keep: string | undefined,
	signal?: AbortSignal,
): Promise<number> {
	let swept = 0;
	let keyMarker: string | undefined;
	let uploadIdMarker: string | undefined;
	for (;;) {
		let page: ListMultipartUploadsCommandOutput;
		try {
			page = await ctx.client.send(
				new ListMultipartUploadsCommand({
					Bucket: ctx.bucket,
					Prefix: key,
					KeyMarker: keyMarker,
					UploadIdMarker: uploadIdMarker,
				}),
				{ abortSignal: signal },
			);
		} catch (err) {
			if (isUnsupported(err)) return swept;
			throw err;
		}
		for (const u of page.Uploads ?? []) {
			if (u.Key === key && u.UploadId && u.UploadId !== keep) {
				await abortUpload(ctx, key, u.UploadId, signal);
				swept++;
			}
		}
		if (!page.IsTruncated) return swept;
		if (page.NextKeyMarker === keyMarker && page.NextUploadIdMarker === uploadIdMarker)
			return swept;
		keyMarker = page.NextKeyMarker;
		uploadIdMarker = page.NextUploadIdMarker;
	}
}

/** Throw away a path's upload state: abort its uploads, delete its state objects. */
export async function discardState(
	ctx: DriverContext,
	key: string,
	state: StoredState,
	signal?: AbortSignal,
): Promise<void> {
	const uploads = [state.uploadId, ...state.extraUploads].filter(
		(u): u is string => u !== undefined,
	);
	for (const uploadId of uploads) await abortUpload(ctx, key, uploadId, signal);
	if (state.pending) await sweepOrphanUploads(ctx, key, undefined, signal);
	await deleteKeys(ctx, state.keys, signal);
}
