import {
	CompleteMultipartUploadCommand,
	CopyObjectCommand,
	CreateMultipartUploadCommand,
	HeadObjectCommand,
	PutObjectCommand,
	UploadPartCommand,
	UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { type FileWriter, PathNotFoundError, StorageDriverError } from "@stowage/core";
import { mapLimit } from "./concurrency.js";
import { type DriverContext, writeAttributes } from "./context.js";
import {
	isNoSuchUpload,
	isNotFound,
	isUnsupported,
	toDriverError,
	UploadGoneError,
} from "./errors.js";
import { copySource } from "./move.js";
import { PartBuffer } from "./part-buffer.js";
import { readObject } from "./transfer.js";
import {
	abortUpload,
	deleteKeys,
	discardState,
	listAllParts,
	loadState,
	markerName,
	OPEN,
	type Part,
	PENDING,
	partMarkerName,
	putMarker,
	type Segment,
	segmentName,
	sweepOrphanUploads,
	tailChain,
	usableParts,
} from "./upload-state.js";

/**
 * More tail segments than this are merged into one at close. A merge reads back less than one
 * part, so it costs at most chunksize / MAX_TAIL_SEGMENTS bytes per session, amortised, and a
 * resume lists the state in one page.
 */
export const MAX_TAIL_SEGMENTS = 256;

/** Parallel reads of tail segments when they are folded into a part. */
const SEGMENT_READS = 8;

interface WriterState {
	/**
	 * A committed object this session appends to (a commit retried after the engine's later
	 * steps failed). It stays the file's content until the first write adopts it.
	 */
	base: { size: number; etag: string | undefined } | undefined;
	uploadId: string | undefined;
	/** The store has no ListParts: every part is recorded by a marker in the state directory. */
	recordParts: boolean;
	partSize: number;
	parts: Part[];
	tail: Segment[];
	/** Objects that exist in the state directory. */
	stateKeys: Set<string>;
	/** Objects of the state directory that no longer count and are deleted at close. */
	stale: Set<string>;
}

/**
 * Open a writer. Without append any earlier uncommitted state of the path is discarded; with
 * append the session resumes from what S3 holds: a committed empty object, or parts and tail.
 */
export async function openWriter(
	ctx: DriverContext,
	path: string,
	append: boolean,
	signal: AbortSignal | undefined,
): Promise<S3Writer> {
	const key = ctx.keys.key(path);
	const stateDir = ctx.keys.stateDir(path);
	const stored = await loadState(ctx, stateDir, signal);
	const fresh = (): WriterState => ({
		base: undefined,
		uploadId: undefined,
		recordParts: false,
		partSize: ctx.options.chunkSize,
		parts: [],
		tail: [],
		stateKeys: new Set(),
		stale: new Set(),
	});
	if (!append) {
		if (stored.keys.size > 0) await discardState(ctx, key, stored, signal);
		return new S3Writer(ctx, path, fresh(), signal);
	}
	if (stored.keys.size === 0) {
		// No session: continue the committed file, if there is one.
		let head: { ContentLength?: number | undefined; ETag?: string | undefined };
		try {
			head = await ctx.client.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: key }), {
				abortSignal: signal,
			});
		} catch (err) {
			if (isNotFound(err)) throw new PathNotFoundError(ctx.name, path, { cause: err });
			throw err;
		}
		const state = fresh();
		const size = head.ContentLength ?? 0;
		if (size > 0) state.base = { size, etag: head.ETag };
		return new S3Writer(ctx, path, state, signal);
	}
	if (stored.pending && stored.uploadId === undefined) {
		await sweepOrphanUploads(ctx, key, undefined, signal);
	}
	const state = fresh();
	state.stateKeys = stored.keys;
	if (stored.uploadId !== undefined) {
		let listed: Part[];
		if (stored.partMarkers.length > 0) {
			// Written on a store without ListParts: the markers are the record of the parts.
			listed = [...stored.partMarkers].sort((a, b) => a.PartNumber - b.PartNumber);
			state.recordParts = true;
		} else {
			try {
				listed = await listAllParts(ctx, key, stored.uploadId, signal);
			} catch (err) {
				if (isNoSuchUpload(err)) throw new UploadGoneError(ctx.name, path, { cause: err });
				// No ListParts and no marker: no part was recorded yet.
				if (!isUnsupported(err)) throw err;
				listed = [];
				state.recordParts = true;
				ctx.partListing.mode = "markers";
			}
		}
		state.uploadId = stored.uploadId;
		state.partSize = stored.partSize ?? ctx.options.chunkSize;
		state.parts = usableParts(ctx, key, listed, state.partSize);
	}
	const from = state.parts.length * state.partSize;
	let chained: ReturnType<typeof tailChain>;
	try {
		chained = tailChain(stored.segments, from);
	} catch (err) {
		throw new StorageDriverError(
			ctx.name,
			`upload state of ${path} is inconsistent: ${(err as Error).message}`,
		);
	}
	state.tail = chained.chain;
	for (const s of chained.stale) state.stale.add(s.key);
	// A tail written under a larger chunk size than today's: grow this upload's part size so
	// the tail still fits in one part (parts stay uniform; S3 only needs >= 5 MiB).
	const tailBytes = state.tail.reduce((n, s) => n + s.size, 0);
	if (state.uploadId === undefined && tailBytes >= state.partSize) state.partSize = tailBytes + 1;
	return new S3Writer(ctx, path, state, signal);
}

/**
 * A resumable writer. Full parts (exactly `partSize` bytes) go to the multipart upload as they
 * fill; what is left at close (less than a part) becomes a tail segment. A resumed session
 * never rewrites what is already stored: it reads the tail back only to fold it into the next
 * part, so many small sessions cost O(total bytes) moved, not O(n²).
 */
export class S3Writer implements FileWriter {
	private readonly key: string;
	private readonly stateDir: string;
	private readonly buffer: PartBuffer;
	private tailBytes: number;
	/** Set by commit: the final part is shorter than the others. */
	private committedSize: number | undefined;

	constructor(
		private readonly ctx: DriverContext,
		private readonly path: string,
		private readonly state: WriterState,
		private readonly signal: AbortSignal | undefined,
	) {
		this.key = ctx.keys.key(path);
		this.stateDir = ctx.keys.stateDir(path);
		this.buffer = new PartBuffer(state.partSize);
		this.tailBytes = state.tail.reduce((n, s) => n + s.size, 0);
	}

	get size(): number {
		return (
			this.committedSize ??
			(this.state.base?.size ?? 0) + this.partsBytes + this.tailBytes + this.buffer.length
		);
	}

	private get partsBytes(): number {
		return this.state.parts.length * this.state.partSize;
	}

	write(chunk: Uint8Array): Promise<void> {
		return this.run("write", async () => {
			if (this.state.base && chunk.length > 0) await this.adoptBase();
			let offset = 0;
			while (offset < chunk.length) {
				const room = this.state.partSize - this.tailBytes - this.buffer.length;
				if (room <= 0) {
					await this.flushPart();
					continue;
				}
				const n = Math.min(room, chunk.length - offset);
				this.buffer.append(chunk.subarray(offset, offset + n));
				offset += n;
				if (room === n) await this.flushPart();
			}
		});
	}

	close(): Promise<void> {
		return this.run("close", async () => {
			// A committed file nothing was appended to persists as it is.
			if (this.state.base) return;
			await this.flushFullParts();
			if (this.buffer.length > 0) await this.saveSegment();
			if (this.state.tail.length > MAX_TAIL_SEGMENTS) await this.mergeTail();
			if (
				this.state.uploadId === undefined &&
				this.state.tail.length === 0 &&
				!this.hasOpenMarker()
			) {
				// Nothing persisted yet: leave a marker so another process finds the session.
				const open = this.stateDir + OPEN;
				await putMarker(this.ctx, open, this.signal);
				this.state.stateKeys.add(open);
			}
			await this.dropStale();
		});
	}

	commit(): Promise<void> {
		return this.run("commit", async () => {
			if (this.state.base) {
				// Committed already, and nothing appended: the content stands.
				this.committedSize = this.state.base.size;
				return;
			}
			await this.flushFullParts();
			const last = await this.assemble(this.tailBytes + this.buffer.length);
			const size = this.size;
			if (this.state.uploadId === undefined) {
				await this.ctx.client.send(
					new PutObjectCommand({
						Bucket: this.ctx.bucket,
						Key: this.key,
						Body: last,
						ContentLength: last.length,
						...writeAttributes(this.ctx.options),
					}),
					{ abortSignal: this.signal },
				);
			} else {
				if (last.length > 0) await this.uploadPart(last);
				await this.complete(size);
			}
			// The content is committed. Leftover state is garbage that delete and purge remove;
			// failing a commit S3 accepted would be worse (the client would retry forever).
			this.committedSize = size;
			await deleteKeys(this.ctx, [...this.state.stateKeys, ...this.state.stale], this.signal).catch(
				() => undefined,
			);
		});
	}

	cancel(): Promise<void> {
		return this.run("cancel", async () => {
			const stored = await loadState(this.ctx, this.stateDir, this.signal);
			if (this.state.uploadId !== undefined && stored.uploadId !== this.state.uploadId) {
				stored.extraUploads.push(this.state.uploadId);
			}
			await discardState(this.ctx, this.key, stored, this.signal);
			await deleteKeys(this.ctx, [...this.state.stale, this.key], this.signal);
			this.buffer.reset();
		});
	}

	private async run(op: string, fn: () => Promise<void>): Promise<void> {
		try {
			await fn();
		} catch (err) {
			throw toDriverError(this.ctx.name, `writer.${op}`, this.path, err, this.signal);
		}
	}

	private hasOpenMarker(): boolean {
		return this.state.stateKeys.has(this.stateDir + OPEN);
	}

	/**
	 * Turn the committed object this session appends to into upload state, server-side where
	 * S3 allows: its whole parts by UploadPartCopy, the rest (less than a part) by CopyObject
	 * into a tail segment when that is all of it, else by a ranged read (less than a part). The
	 * object itself stays until the commit replaces it.
	 */
	private async adoptBase(): Promise<void> {
		const base = this.state.base as { size: number; etag: string | undefined };
		const partSize = this.state.partSize;
		const whole = Math.floor(base.size / partSize);
		const pinned = base.etag ? { CopySourceIfMatch: base.etag } : {};
		const source = copySource(this.ctx.bucket, this.key);
		if (whole > 0) {
			const uploadId = await this.ensureUpload();
			this.state.parts = await mapLimit(
				Array.from({ length: whole }, (_, i) => i),
				this.ctx.options.copyMaxConcurrency,
				async (i) => {
					const out = await this.ctx.client.send(
						new UploadPartCopyCommand({
							Bucket: this.ctx.bucket,
							Key: this.key,
							UploadId: uploadId,
							PartNumber: i + 1,
							CopySource: source,
							CopySourceRange: `bytes=${i * partSize}-${(i + 1) * partSize - 1}`,
							...pinned,
						}),
						{ abortSignal: this.signal },
					);
					const part = {
						PartNumber: i + 1,
						ETag: out.CopyPartResult?.ETag as string,
						Size: partSize,
					};
					await this.recordPart(part);
					return part;
				},
			);
		}
		const offset = whole * partSize;
		const rest = base.size - offset;
		if (rest > 0) {
			const key = this.stateDir + segmentName(offset);
			if (offset === 0) {
				await this.ctx.client.send(
					new CopyObjectCommand({
						Bucket: this.ctx.bucket,
						Key: key,
						CopySource: source,
						...pinned,
					}),
					{ abortSignal: this.signal },
				);
			} else {
				const data = await readObject(this.ctx, this.key, this.signal, {
					size: rest,
					range: [offset, base.size - 1],
					etag: base.etag,
				});
				await this.ctx.client.send(
					new PutObjectCommand({
						Bucket: this.ctx.bucket,
						Key: key,
						Body: data,
						ContentLength: rest,
					}),
					{ abortSignal: this.signal },
				);
			}
			this.state.tail = [{ key, offset, size: rest }];
			this.state.stateKeys.add(key);
			this.tailBytes = rest;
		}
		this.state.base = undefined;
	}

	/** Upload whole parts while tail and buffer hold a part's worth (after a failed write). */
	private async flushFullParts(): Promise<void> {
		while (this.tailBytes + this.buffer.length >= this.state.partSize) await this.flushPart();
	}

	/** Fold the tail and the buffer's first bytes into one part of exactly `partSize`. */
	private async flushPart(): Promise<void> {
		const fromBuffer = this.state.partSize - this.tailBytes;
		const data = await this.assemble(this.state.partSize);
		await this.uploadPart(data);
		for (const s of this.state.tail) this.state.stale.add(s.key);
		this.state.tail = [];
		this.tailBytes = 0;
		if (fromBuffer === this.buffer.length) this.buffer.reset();
		else {
			const rest = Buffer.from(this.buffer.view().subarray(fromBuffer));
			this.buffer.reset();
			this.buffer.append(rest);
		}
	}

	/**
	 * The first `length` bytes after the parts: the tail read back from S3, then the buffer.
	 * Without a tail the buffer itself is returned (no copy).
	 */
	private async assemble(length: number): Promise<Buffer> {
		const fromBuffer = length - this.tailBytes;
		if (this.state.tail.length === 0) return this.buffer.view().subarray(0, fromBuffer);
		const data = Buffer.allocUnsafe(length);
		let at = 0;
		const placed = this.state.tail.map((s) => {
			const p = { segment: s, at };
			at += s.size;
			return p;
		});
		await mapLimit(placed, SEGMENT_READS, ({ segment, at }) =>
			readObject(this.ctx, segment.key, this.signal, { size: segment.size, target: data, at }),
		);
		this.buffer.view().copy(data, this.tailBytes, 0, fromBuffer);
		return data;
	}

	private async uploadPart(data: Buffer): Promise<void> {
		const uploadId = await this.ensureUpload();
		const partNumber = this.state.parts.length + 1;
		if (partNumber > this.ctx.options.maxParts) {
			throw new StorageDriverError(
				this.ctx.name,
				`${this.path} would need more than ${this.ctx.options.maxParts} parts of ${this.state.partSize} bytes: raise chunksize`,
			);
		}
		const out = await this.ctx.client.send(
			new UploadPartCommand({
				Bucket: this.ctx.bucket,
				Key: this.key,
				UploadId: uploadId,
				PartNumber: partNumber,
				Body: data,
				ContentLength: data.length,
			}),
			{ abortSignal: this.signal },
		);
		const part = { PartNumber: partNumber, ETag: out.ETag as string, Size: data.length };
		await this.recordPart(part);
		this.state.parts.push(part);
	}

	/** On a store without ListParts, leave a marker per part (after the part exists). */
	private async recordPart(part: Part): Promise<void> {
		if (!this.state.recordParts) return;
		const marker = this.stateDir + partMarkerName(part);
		await putMarker(this.ctx, marker, this.signal);
		this.state.stateKeys.add(marker);
	}

	/** Learn once per driver instance whether the store lists parts (s3rver does not). */
	private async probePartListing(uploadId: string): Promise<void> {
		if (this.ctx.partListing.mode === "unknown") {
			try {
				await listAllParts(this.ctx, this.key, uploadId, this.signal);
				this.ctx.partListing.mode = "native";
			} catch (err) {
				if (!isUnsupported(err)) throw err;
				this.ctx.partListing.mode = "markers";
			}
		}
		this.state.recordParts = this.ctx.partListing.mode === "markers";
	}

	/**
	 * Create the multipart upload on the first full part. A pending marker first, so a crash
	 * between create and marker leaves a trace for the sweep; a create the SDK had to retry may
	 * have left an earlier upload behind, which is swept at once.
	 */
	private async ensureUpload(): Promise<string> {
		if (this.state.uploadId !== undefined) return this.state.uploadId;
		const pending = this.stateDir + PENDING;
		await putMarker(this.ctx, pending, this.signal);
		this.state.stateKeys.add(pending);
		const out = await this.ctx.client.send(
			new CreateMultipartUploadCommand({
				Bucket: this.ctx.bucket,
				Key: this.key,
				...writeAttributes(this.ctx.options),
			}),
			{ abortSignal: this.signal },
		);
		const uploadId = out.UploadId as string;
		try {
			if ((out.$metadata.attempts ?? 1) > 1)
				await sweepOrphanUploads(this.ctx, this.key, uploadId, this.signal);
			const marker = this.stateDir + markerName(this.state.partSize, uploadId);
			await putMarker(this.ctx, marker, this.signal);
			this.state.stateKeys.add(marker);
			await this.probePartListing(uploadId);
		} catch (err) {
			await abortUpload(this.ctx, this.key, uploadId).catch(() => undefined);
			throw err;
		}
		this.state.uploadId = uploadId;
		this.state.stale.add(pending);
		return uploadId;
	}

	/**
	 * CompleteMultipartUpload with the parts in order. If the answer to a successful Complete is
	 * lost, the SDK's retry finds no upload: that is success only if the object now has the size
	 * this writer committed, never just because of a 404.
	 */
	private async complete(size: number): Promise<void> {
		const uploadId = this.state.uploadId as string;
		const parts = [...this.state.parts].sort((a, b) => a.PartNumber - b.PartNumber);
		try {
			await this.ctx.client.send(
				new CompleteMultipartUploadCommand({
					Bucket: this.ctx.bucket,
					Key: this.key,
					UploadId: uploadId,
					MultipartUpload: { Parts: parts.map(({ PartNumber, ETag }) => ({ PartNumber, ETag })) },
				}),
				{ abortSignal: this.signal },
			);
		} catch (err) {
			if (!isNoSuchUpload(err)) throw err;
			let committed = false;
			try {
				const head = await this.ctx.client.send(
					new HeadObjectCommand({ Bucket: this.ctx.bucket, Key: this.key }),
					{
						abortSignal: this.signal,
					},
				);
				committed = head.ContentLength === size && (head.ETag ?? "").endsWith(`-${parts.length}"`);
			} catch (headErr) {
				if (!isNotFound(headErr)) throw headErr;
			}
			if (!committed) throw new UploadGoneError(this.ctx.name, this.path, { cause: err });
		}
	}

	/** Persist the buffer as the next tail segment. */
	private async saveSegment(): Promise<void> {
		const offset = this.partsBytes + this.tailBytes;
		const key = this.stateDir + segmentName(offset);
		const data = this.buffer.view();
		await this.ctx.client.send(
			new PutObjectCommand({
				Bucket: this.ctx.bucket,
				Key: key,
				Body: data,
				ContentLength: data.length,
			}),
			{ abortSignal: this.signal },
		);
		this.state.tail.push({ key, offset, size: data.length });
		this.state.stateKeys.add(key);
		this.state.stale.delete(key);
		this.tailBytes += data.length;
		this.buffer.reset();
	}

	/**
	 * Replace the tail by one segment at the same offset as its first: the overwrite is atomic,
	 * and until the others are deleted the longer segment wins (see tailChain).
	 */
	private async mergeTail(): Promise<void> {
		const data = await this.assemble(this.tailBytes);
		const first = this.state.tail[0] as Segment;
		await this.ctx.client.send(
			new PutObjectCommand({
				Bucket: this.ctx.bucket,
				Key: first.key,
				Body: data,
				ContentLength: data.length,
			}),
			{ abortSignal: this.signal },
		);
		for (const s of this.state.tail.slice(1)) this.state.stale.add(s.key);
		this.state.tail = [{ key: first.key, offset: first.offset, size: data.length }];
	}

	private async dropStale(): Promise<void> {
		if (this.state.stale.size === 0) return;
		await deleteKeys(this.ctx, this.state.stale, this.signal);
		for (const k of this.state.stale) this.state.stateKeys.delete(k);
		this.state.stale.clear();
	}
}
