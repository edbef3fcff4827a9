import type { AppendBlobClient } from "@azure/storage-blob";
import { StorageDriverError } from "@stowage/core";
import { isConditionFailed, isNotFound } from "./azure-errors.js";

/** Append Block accepts 4 MiB per call on every service version (100 MiB only on newer ones). */
export const MAX_APPEND = 4 * 1024 * 1024;

/**
 * Append blocks a tail blob may use before its bytes are promoted into a staged block. Azure's
 * limit is 50,000; staying well below it keeps a pathological client (millions of tiny PATCHes)
 * linear: each promotion costs one download of less than a block.
 */
export const TAIL_MAX_APPENDS = 10_000;

export interface Appended {
	etag: string;
	appends: number;
}

/**
 * Append `data` at `position`, conditional on the position and the ETag so two writers cannot
 * interleave. When a retry follows a request whose answer was lost, the first attempt may have
 * landed: a failed condition is then checked by reading the range back, and identical bytes
 * count as appended (Distribution's chunkUploadVerify, by content rather than MD5).
 */
export async function appendAt(
	driver: string,
	path: string,
	tail: AppendBlobClient,
	data: Uint8Array,
	position: number,
	etag: string,
	signal: AbortSignal | undefined,
): Promise<Appended> {
	let done = 0;
	let current = { etag, appends: 0 };
	while (done < data.length) {
		const piece = data.subarray(done, done + MAX_APPEND);
		const at = position + done;
		try {
			const r = await tail.appendBlock(piece, piece.length, {
				conditions: { appendPosition: at, ifMatch: current.etag },
				abortSignal: signal,
			});
			current = { etag: r.etag as string, appends: r.blobCommittedBlockCount ?? 0 };
		} catch (err) {
			if (!isConditionFailed(err)) throw err;
			current = await verifyLanded(driver, path, tail, piece, at, err);
		}
		done += piece.length;
	}
	return current;
}

async function verifyLanded(
	driver: string,
	path: string,
	tail: AppendBlobClient,
	piece: Uint8Array,
	at: number,
	cause: unknown,
): Promise<Appended> {
	const conflict = () =>
		new StorageDriverError(driver, `upload ${path} was changed by another writer`, { cause });
	let props: Awaited<ReturnType<AppendBlobClient["getProperties"]>>;
	try {
		props = await tail.getProperties();
	} catch (err) {
		if (isNotFound(err)) throw conflict();
		throw err;
	}
	if (props.contentLength !== at + piece.length) throw conflict();
	const back = await tail.downloadToBuffer(at, piece.length, {
		conditions: { ifMatch: props.etag },
	});
	if (Buffer.compare(back, piece) !== 0) throw conflict();
	return { etag: props.etag as string, appends: props.blobCommittedBlockCount ?? 0 };
}

/** Read the tail's `into.length` bytes into `into`, refusing a tail that changed meanwhile. */
export async function readTail(
	tail: AppendBlobClient,
	into: Buffer,
	etag: string,
	signal: AbortSignal | undefined,
): Promise<void> {
	if (into.length === 0) return;
	await tail.downloadToBuffer(into, 0, into.length, {
		conditions: { ifMatch: etag },
		abortSignal: signal,
		concurrency: 1,
	});
}
