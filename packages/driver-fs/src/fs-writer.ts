import * as fsp from "node:fs/promises";
import { dirname } from "node:path";
import {
	type FileWriter,
	OperationAbortedError,
	PathNotFoundError,
	StorageDriverError,
} from "@stowage/core";
import { closeQuietly, fsyncDir, writeAll } from "./durable.js";
import { hasCode } from "./fs-errors.js";

/** First size of the coalescing buffer; it doubles up to the configured capacity. */
const MIN_BUFFER = 16 * 1024;

/** Bytes between background fdatasyncs of a large upload (see startWriteback). */
const SYNC_EVERY = 8 * 1024 * 1024;

/** What the writer needs back from its driver. */
export interface WriterHost {
	readonly name: string;
	pruneEmptyDirs(realDir: string): Promise<void>;
}

export interface FsWriterInit {
	/** Driver path, for errors. */
	path: string;
	/** Host path of the committed file (its directory is a checked real path). */
	target: string;
	/** Host path of the hidden partial file the bytes go to. */
	partial: string;
	handle: fsp.FileHandle;
	/** Bytes already in the partial file (earlier sessions). */
	size: number;
	/** The partial file was just created, so its directory entry still needs an fsync. */
	created: boolean;
	bufferSize: number;
	signal: AbortSignal | undefined;
}

/**
 * Streams into the partial file at explicit offsets, coalescing small chunks in two bounded
 * buffers: one fills while the other is written, so the socket keeps being read during disk
 * writes (with one buffer the request paused at every flush and receiving and writing took
 * turns). Operations are serialised, so calls that are not awaited still land in order.
 *
 * close: flush + fsync, after which another process can reopen with `append: true` at `size`.
 * commit: flush + fsync + rename onto the target + fsync the directory: the target only ever
 * holds complete content. cancel: drop the partial file and the target.
 */
export class FsFileWriter implements FileWriter {
	private readonly init: FsWriterInit;
	private handle: fsp.FileHandle | undefined;
	private written: number;
	private buffer: Buffer | undefined;
	private buffered = 0;
	/** The other buffer, and its write while one runs (its failure lands in `failure`). */
	private spare: Buffer | undefined;
	private inflight: Promise<void> | undefined;
	private failure: unknown;
	/** Bytes written since the last background sync started, and that sync while it runs. */
	private unsynced = 0;
	private syncing: Promise<void> | undefined;
	private tail: Promise<unknown> = Promise.resolve();

	constructor(
		private readonly host: WriterHost,
		init: FsWriterInit,
	) {
		this.init = init;
		this.handle = init.handle;
		this.written = init.size;
	}

	get size(): number {
		return this.written + this.buffered;
	}

	write(chunk: Uint8Array): Promise<void> {
		return this.serial(async () => {
			this.throwIfFailed();
			const { signal } = this.init;
			if (signal?.aborted) {
				throw new OperationAbortedError(this.host.name, "writer.write", { cause: signal.reason });
			}
			try {
				await this.append(chunk);
			} catch (err) {
				this.failure = err;
				throw err;
			}
		});
	}

	close(): Promise<void> {
		return this.serial(() =>
			this.missingIsGone(async () => {
				try {
					await this.persist();
				} finally {
					await this.release();
				}
			}),
		);
	}

	commit(): Promise<void> {
		return this.serial(() =>
			this.missingIsGone(async () => {
				try {
					// The partial file's name need not be durable: the rename below replaces it, and the
					// fsync of the same directory after it makes the target's entry durable.
					await this.persist(false);
				} finally {
					await this.release();
				}
				const { target, partial } = this.init;
				await fsp.rename(partial, target);
				await fsyncDir(dirname(target));
			}),
		);
	}

	cancel(): Promise<void> {
		return this.serial(async () => {
			await this.release();
			const { target, partial } = this.init;
			await fsp.rm(partial, { force: true });
			try {
				await fsp.unlink(target);
			} catch (err) {
				// Missing is fine; a directory at the target is not this writer's to remove.
				if (!hasCode(err, "ENOENT", "EISDIR", "EPERM")) throw err;
			}
			await this.host.pruneEmptyDirs(dirname(target));
		});
	}

	private async append(chunk: Uint8Array): Promise<void> {
		const capacity = this.init.bufferSize;
		let offset = 0;
		while (offset < chunk.length) {
			const rest = chunk.length - offset;
			if (this.buffered === 0 && rest >= capacity) {
				// Large chunks skip the buffer; the write completes before the caller may reuse it.
				await this.drain();
				await writeAll(this.requireHandle(), chunk.subarray(offset), this.written);
				this.written += rest;
				this.startWriteback(rest);
				return;
			}
			const take = Math.min(capacity - this.buffered, rest);
			this.reserve(this.buffered + take).set(chunk.subarray(offset, offset + take), this.buffered);
			this.buffered += take;
			offset += take;
			if (this.buffered === capacity) await this.flush();
		}
	}

	/**
	 * Grow the buffer to hold `needed` bytes, doubling from 16 KiB up to the capacity: a small
	 * upload (most layers of a manifest-heavy push are a few KiB) must not cost a 1 MiB allocation,
	 * which showed up as GC at ~30% of the server's main thread in the small-blob benchmark.
	 */
	private reserve(needed: number): Buffer {
		const current = this.buffer?.length ?? 0;
		if (this.buffer !== undefined && needed <= current) return this.buffer;
		let size = Math.max(current, MIN_BUFFER);
		while (size < needed) size *= 2;
		const grown = Buffer.allocUnsafe(Math.min(size, this.init.bufferSize));
		if (this.buffer !== undefined) this.buffer.copy(grown, 0, 0, this.buffered);
		this.buffer = grown;
		return grown;
	}

	/** Start writing the buffered bytes and switch to the other buffer; waits only for that one. */
	private async flush(): Promise<void> {
		if (this.buffered === 0 || this.buffer === undefined) return;
		await this.drain();
		const full = this.buffer;
		const bytes = this.buffered;
		const write = writeAll(this.requireHandle(), full.subarray(0, bytes), this.written);
		this.inflight = write.then(
			() => this.startWriteback(bytes),
			(err: unknown) => {
				this.failure ??= err;
			},
		);
		this.written += bytes;
		this.buffered = 0;
		// The upload has proven large: its second buffer starts at the first one's size.
		this.buffer = this.spare ?? Buffer.allocUnsafe(full.length);
		this.spare = full;
	}

	/** Wait for the write in flight; a failure of it fails this call. */
	private async drain(): Promise<void> {
		const write = this.inflight;
		if (write === undefined) return;
		await write;
		if (this.inflight === write) this.inflight = undefined;
		this.throwIfFailed();
	}

	/**
	 * Every SYNC_EVERY bytes, start an fdatasync in the background: the disk writes back while
	 * the upload is still arriving instead of all at once in the final fsync (1 GiB of dirty
	 * pages took ~0.5 s to sync at commit). It only adds durability; an error is kept and fails
	 * the next write, close or commit, since Linux reports a writeback error only once.
	 */
	private startWriteback(bytes: number): void {
		this.unsynced += bytes;
		if (this.unsynced < SYNC_EVERY || this.syncing !== undefined) return;
		this.unsynced = 0;
		const run = this.requireHandle()
			.datasync()
			.then(
				() => undefined,
				(err: unknown) => {
					this.failure ??= err;
				},
			);
		this.syncing = run;
		void run.then(() => {
			if (this.syncing === run) this.syncing = undefined;
		});
	}

	/** Everything written is on disk, and (with `syncName`) so is the partial file's name. */
	private async persist(syncName = true): Promise<void> {
		this.throwIfFailed();
		await this.flush();
		await this.drain();
		await this.syncing;
		this.throwIfFailed();
		await this.requireHandle().sync();
		if (syncName && this.init.created) {
			await fsyncDir(dirname(this.init.partial));
			this.init.created = false;
		}
	}

	private async release(): Promise<void> {
		// A write or background sync still uses the descriptor: closing it first could let it hit a
		// reused fd.
		await this.inflight;
		await this.syncing;
		const handle = this.handle;
		this.handle = undefined;
		this.buffer = undefined;
		this.spare = undefined;
		await closeQuietly(handle);
	}

	private requireHandle(): fsp.FileHandle {
		if (this.handle === undefined) {
			throw new StorageDriverError(this.host.name, `writer for ${this.init.path} is released`);
		}
		return this.handle;
	}

	/** After a failed write the position is uncertain: refuse to persist or commit guesses. */
	private throwIfFailed(): void {
		if (this.failure !== undefined) throw this.failure;
	}

	/** ENOENT here means the upload was deleted underneath this writer. */
	private async missingIsGone(fn: () => Promise<void>): Promise<void> {
		try {
			await fn();
		} catch (err) {
			if (!hasCode(err, "ENOENT")) throw err;
			throw new PathNotFoundError(this.host.name, this.init.path, { cause: err });
		}
	}

	private serial<T>(fn: () => Promise<T>): Promise<T> {
		const run = this.tail.then(fn);
		this.tail = run.catch(() => undefined);
		return run;
	}
}
