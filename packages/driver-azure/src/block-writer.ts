import type { AppendBlobClient, BlockBlobClient } from "@azure/storage-blob";
import {
	type FileWriter,
	OperationAbortedError,
	PathNotFoundError,
	StorageDriverError,
} from "@stowage/core";
import { codeOf, isConditionFailed, isNotFound, statusOf, toDriverError } from "./azure-errors.js";
import { deleteIfPresent, discardStaged } from "./blob-ops.js";
import { encodeBlockId, MAX_BLOCKS, newToken } from "./block-ids.js";
import { appendAt, MAX_APPEND, readTail, TAIL_MAX_APPENDS } from "./tail-blob.js";
import {
	type ListedBlock,
	NO_BASE,
	type TailBlob,
	tailBytes,
	tailMetadata,
	type UploadState,
} from "./upload-state.js";

export interface WriterTarget {
	readonly driver: string;
	readonly path: string;
	readonly blob: BlockBlobClient;
	readonly tail: AppendBlobClient;
	readonly blockSize: number;
	readonly signal: AbortSignal | undefined;
	/** A writer that starts a new upload: any earlier tail blob of the path is replaced unread. */
	readonly fresh: boolean;
}

const INITIAL_BUFFER = 64 * 1024;

/**
 * Streams an upload into staged blocks of exactly `blockSize` bytes (see upload-state.ts for
 * what is persisted where). Memory is one buffer that grows to at most `blockSize`.
 *
 * - write: bytes collect in the buffer; a full block is staged (preceded by the tail blob's
 *   bytes, read back once, when an earlier session left some). Chunks of a block or more go
 *   straight from the caller's buffer.
 * - close: what is buffered (less than a block) is appended to the tail blob, so another process
 *   resumes at `size`; a small PATCH costs one Append Block, never a re-upload of earlier bytes.
 * - commit: tail + buffer become the last block, and the block list is committed, conditional on
 *   the committed blob being the one the upload began over (If-Match, or If-None-Match: *).
 * - cancel: the tail blob, the staged blocks and the blob at the path are deleted.
 *
 * Calls are serialised, so a call that was not awaited still lands in order.
 */
export class AzureFileWriter implements FileWriter {
	private readonly upload: string;
	private readonly base: string | undefined;
	private readonly start: number;
	private readonly session = newToken();
	private readonly blocks: ListedBlock[];
	private stagedBytes: number;
	private tail: TailBlob | undefined;
	private hasUncommitted: boolean;
	/** A fresh writer has not yet replaced the path's tail blob (which may or may not exist). */
	private replaceTail: boolean;
	private buffer: Buffer | undefined;
	private buffered = 0;
	private failure: unknown;
	private queue: Promise<unknown> = Promise.resolve();

	constructor(
		private readonly target: WriterTarget,
		state: UploadState,
	) {
		this.upload = state.upload;
		this.base = state.base;
		this.start = state.start;
		this.blocks = [...state.blocks];
		this.stagedBytes = state.blocks.reduce((sum, b) => sum + b.size, 0);
		this.tail = state.tail;
		this.hasUncommitted = state.hasUncommitted;
		this.replaceTail = target.fresh;
	}

	get size(): number {
		return this.stagedBytes + this.tailBytes() + this.buffered;
	}

	write(chunk: Uint8Array): Promise<void> {
		return this.serial("write", async () => {
			this.throwIfFailed();
			const { signal, driver } = this.target;
			if (signal?.aborted) {
				throw new OperationAbortedError(driver, "writer.write", { cause: signal.reason });
			}
			try {
				await this.append(chunk, signal);
			} catch (err) {
				// Whether the last request landed is unknown: never persist a guess after it.
				this.failure = err;
				throw err;
			}
		});
	}

	close(): Promise<void> {
		return this.serial("close", async () => {
			try {
				this.throwIfFailed();
				if (this.buffered > 0) await this.persistBuffer();
				else if (this.replaceTail) await this.writeTailBlob();
			} finally {
				this.buffer = undefined;
			}
		});
	}

	commit(): Promise<void> {
		return this.serial("commit", async () => {
			try {
				this.throwIfFailed();
				if (this.tailBytes() + this.buffered > 0) await this.flushBlock(undefined, false);
			} finally {
				this.buffer = undefined;
			}
			await this.commitBlocks();
			// The upload is over; a tail blob left behind is stale anyway (its base no longer matches).
			if (this.tail) await deleteIfPresent(this.target.tail, this.tail.etag).catch(() => false);
		});
	}

	cancel(): Promise<void> {
		return this.serial("cancel", async () => {
			this.buffer = undefined;
			this.buffered = 0;
			const { blob, tail } = this.target;
			const staged = this.hasUncommitted || this.blocks.length > this.start;
			const base = this.base;
			await Promise.all([
				deleteIfPresent(tail),
				staged
					? discardStaged(blob, base !== undefined ? { ifMatch: base } : { ifNoneMatch: "*" })
					: base !== undefined
						? deleteIfPresent(blob, base)
						: Promise.resolve(false),
			]);
		});
	}

	private tailBytes(): number {
		return tailBytes({ blocks: this.blocks, tail: this.tail });
	}

	private async append(chunk: Uint8Array, signal: AbortSignal | undefined): Promise<void> {
		const { blockSize } = this.target;
		let offset = 0;
		while (offset < chunk.length) {
			if (this.tailBytes() + this.buffered >= blockSize) {
				// Only after a session with a smaller blocksize left a longer tail.
				await this.flushBlock(signal, true);
				continue;
			}
			const rest = chunk.length - offset;
			if (this.buffered === 0 && this.tailBytes() === 0 && rest >= blockSize) {
				// A whole block from the caller's buffer: staged before write resolves, so no copy.
				await this.stage(chunk.subarray(offset, offset + blockSize), signal, true);
				offset += blockSize;
				continue;
			}
			const take = Math.min(blockSize - this.tailBytes() - this.buffered, rest);
			const buffer = this.reserve(this.buffered + take);
			buffer.set(chunk.subarray(offset, offset + take), this.buffered);
			this.buffered += take;
			offset += take;
			if (this.tailBytes() + this.buffered === blockSize) await this.flushBlock(signal, true);
		}
	}

	/** Stage tail + buffer as one block; afterwards the tail blob's bytes no longer count. */
	private async flushBlock(signal: AbortSignal | undefined, mark: boolean): Promise<void> {
		const fromTail = this.tailBytes();
		const total = fromTail + this.buffered;
		const buffer = this.reserve(total);
		if (fromTail > 0 && this.tail) {
			buffer.copyWithin(fromTail, 0, this.buffered);
			await readTail(this.target.tail, buffer.subarray(0, fromTail), this.tail.etag, signal);
		}
		await this.stage(buffer.subarray(0, total), signal, mark);
		this.buffered = 0;
	}

	/**
	 * Stage one block at the next position. With `mark`, the upload is first recorded in the tail
	 * blob (once), so that a resumer can tell this upload's blocks from an abandoned one's.
	 */
	private async stage(data: Uint8Array, signal: AbortSignal | undefined, mark: boolean) {
		const { blob, driver, path, blockSize } = this.target;
		if (this.blocks.length >= MAX_BLOCKS) {
			throw new StorageDriverError(
				driver,
				`upload ${path} exceeds Azure's ${MAX_BLOCKS} blocks of ${blockSize} bytes: configure a larger blocksize`,
			);
		}
		if (mark && !(this.tail?.owned && !this.replaceTail)) await this.writeTailBlob();
		const id = encodeBlockId({
			upload: this.upload,
			seq: this.blocks.length,
			session: this.session,
		});
		await blob.stageBlock(id, data, data.length, { abortSignal: signal });
		this.blocks.push({ name: id, size: data.length });
		this.stagedBytes += data.length;
		this.hasUncommitted = true;
	}

	/** Append the buffer (less than a block) to the tail blob, so that `close` persists it. */
	private async persistBuffer(): Promise<void> {
		const { driver, path, tail } = this.target;
		const pieces = Math.ceil(this.buffered / MAX_APPEND);
		const reusable =
			this.tail?.owned === true &&
			!this.replaceTail &&
			this.tail.blocksBefore === this.blocks.length;
		if (reusable && this.tail && this.tail.appends + pieces > TAIL_MAX_APPENDS) {
			// The append blob is filling up with small appends: fold it into a (short) block.
			await this.flushBlock(undefined, true);
			return;
		}
		if (!reusable) await this.writeTailBlob();
		const t = this.tail as TailBlob;
		const data = (this.buffer as Buffer).subarray(0, this.buffered);
		const r = await appendAt(driver, path, tail, data, t.size, t.etag, undefined);
		this.tail = { ...t, etag: r.etag, appends: r.appends, size: t.size + data.length };
		this.buffered = 0;
	}

	/**
	 * (Re)create the tail blob for this upload, empty, recording the blocks staged so far. It
	 * replaces a leftover or an outdated one only if unchanged since read (If-Match), or, for a
	 * fresh writer, whatever is there.
	 */
	private async writeTailBlob(): Promise<void> {
		const { driver, path, tail } = this.target;
		const conditions = this.replaceTail
			? undefined
			: this.tail
				? { ifMatch: this.tail.etag }
				: { ifNoneMatch: "*" };
		const metadata = tailMetadata({
			upload: this.upload,
			base: this.base ?? NO_BASE,
			start: this.start,
			blocks: this.blocks.length,
		});
		try {
			const r = await tail.create({ metadata, conditions });
			this.tail = {
				etag: r.etag as string,
				size: 0,
				appends: 0,
				blocksBefore: this.blocks.length,
				owned: true,
			};
			this.replaceTail = false;
		} catch (err) {
			if (!isConditionFailed(err)) throw err;
			throw new StorageDriverError(driver, `upload ${path} was changed by another writer`, {
				cause: err,
			});
		}
	}

	private async commitBlocks(): Promise<void> {
		const { blob, driver, path } = this.target;
		const ids = this.blocks.map((b) => b.name);
		const conditions = this.base !== undefined ? { ifMatch: this.base } : { ifNoneMatch: "*" };
		try {
			await blob.commitBlockList(ids, { conditions });
		} catch (err) {
			if (isConditionFailed(err)) {
				// A retried request whose first attempt landed fails its own condition.
				if (await this.committedAs(ids)) return;
				throw new StorageDriverError(
					driver,
					`commit ${path}: the blob was changed by another writer`,
					{
						cause: err,
					},
				);
			}
			// Staged blocks vanish when the upload is deleted (or purged) underneath the writer.
			if (statusOf(err) === 400 && codeOf(err) === "InvalidBlockList") {
				// What this writer staged since must not linger as a new upload of the path.
				await discardStaged(blob, { ifNoneMatch: "*" }).catch(() => false);
				throw new PathNotFoundError(driver, path, { cause: err });
			}
			throw err;
		}
	}

	private async committedAs(ids: string[]): Promise<boolean> {
		try {
			const list = await this.target.blob.getBlockList("committed");
			const names = (list.committedBlocks ?? []).map((b) => b.name);
			return names.length === ids.length && names.every((n, i) => n === ids[i]);
		} catch (err) {
			if (isNotFound(err)) return false;
			throw err;
		}
	}

	/** The buffer, grown (by doubling, up to the block size) to hold `needed` bytes. */
	private reserve(needed: number): Buffer {
		const current = this.buffer;
		if (current && current.length >= needed) return current;
		let capacity = Math.max(current?.length ?? INITIAL_BUFFER, INITIAL_BUFFER);
		while (capacity < needed) capacity *= 2;
		const grown = Buffer.allocUnsafe(Math.min(capacity, Math.max(needed, this.target.blockSize)));
		if (current && this.buffered > 0) current.copy(grown, 0, 0, this.buffered);
		this.buffer = grown;
		return grown;
	}

	private throwIfFailed(): void {
		if (this.failure !== undefined) throw this.failure;
	}

	private serial(op: string, fn: () => Promise<void>): Promise<void> {
		const { driver, path } = this.target;
		const run = this.queue.then(fn).catch((err: unknown) => {
			throw toDriverError(driver, `writer.${op}`, path, err);
		});
		this.queue = run.catch(() => undefined);
		return run;
	}
}
