import { randomUUID } from "node:crypto";
import { createHash, type ResumableHash } from "@stowage/sha-state";
import { type ParsedDigest, parseDigest } from "../digest.js";
import { PathNotFoundError } from "../driver/errors.js";
import type { FileWriter, StorageDriver } from "../driver/types.js";
import {
	BlobUploadInvalidError,
	BlobUploadUnknownError,
	DigestInvalidError,
	RangeInvalidError,
	SizeInvalidError,
	UploadConflictError,
} from "../errors/registry-errors.js";
import type { Layout } from "../layout.js";
import type { AfterResponse } from "./after-response.js";
import type { BlobStore } from "./blob-store.js";
import { DEFAULT_BLOB_MEDIA_TYPE, type Descriptor, type UploadStatus } from "./descriptor.js";
import type { HashStates } from "./hash-states.js";
import type { LinkedBlobStore } from "./linked-blob-store.js";
import type { Lock, Locker } from "./locker.js";

export interface WriteOptions {
	/** Where the client believes the upload stands; RangeInvalidError when it does not. */
	offset?: number;
	/** Declared byte count of the body; SizeInvalidError when the body is longer or shorter. */
	length?: number;
	signal?: AbortSignal;
}

export interface CommitOptions extends WriteOptions {
	/** A last chunk sent with the commit. */
	body?: AsyncIterable<Uint8Array>;
	/** Expected total size of the blob. */
	size?: number;
}

/** Chunks below this are hashed at once: a turn of the event loop would cost more than it saves. */
const OVERLAP_MIN = 256 * 1024;

const yieldToIO = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Upload ids are path components; anything else cannot name an upload. */
const UPLOAD_ID = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Resumable blob uploads of one repository. Every piece of state lives in the storage backend
 * (data, start time, digest states), so any process can continue an upload another began, and
 * a restart loses nothing that was acknowledged. Each request resumes the session, appends its
 * bytes while hashing them, and persists the digest state before answering; commit verifies the
 * digest from that state without reading the bytes back.
 */
export class UploadStore {
	constructor(
		readonly repository: string,
		private readonly driver: StorageDriver,
		private readonly layout: Layout,
		private readonly blobs: BlobStore,
		private readonly links: LinkedBlobStore,
		private readonly hashStates: HashStates,
		private readonly locker: Locker,
		private readonly now: () => Date,
		private readonly afterResponse: AfterResponse,
	) {}

	async start(options: { signal?: AbortSignal } = {}): Promise<UploadStatus> {
		const id = randomUUID();
		const startedAt = this.now();
		const { signal } = options;
		// startedat is the upload's record (and what the purger ages it by). The data object is
		// made by the first write: creating it empty here cost a small push four more storage
		// operations and two fsyncs, and resume() already treats a missing one as empty.
		await this.driver.putContent(
			this.layout.uploadStartedAt(this.repository, id),
			Buffer.from(formatStartedAt(startedAt)),
			{ signal },
		);
		return { id, repository: this.repository, offset: 0, startedAt };
	}

	async status(id: string, options: { signal?: AbortSignal } = {}): Promise<UploadStatus> {
		const startedAt = await this.startedAt(id, options.signal);
		const writer = await this.resume(id, options.signal);
		const offset = writer.size;
		await writer.close();
		return { id, repository: this.repository, offset, startedAt };
	}

	/** Append a body at the upload's current offset. */
	async write(
		id: string,
		body: AsyncIterable<Uint8Array>,
		options: WriteOptions = {},
	): Promise<UploadStatus> {
		return this.locked(id, options.signal, async (signal) => {
			const startedAt = await this.startedAt(id, signal);
			const writer = await this.resume(id, signal);
			await this.append(id, writer, body, { ...options, signal }, false);
			return { id, repository: this.repository, offset: writer.size, startedAt };
		});
	}

	/**
	 * Finish the upload: append an optional last chunk, verify the digest, move the bytes to their
	 * content address and link them into the repository. On a digest or size mismatch nothing
	 * becomes visible and the upload is removed (its bytes are not the promised blob).
	 */
	async commit(id: string, digest: string, options: CommitOptions = {}): Promise<Descriptor> {
		// An unparsable digest leaves the upload intact so the client can retry the PUT.
		const d = parseDigest(digest);
		return this.locked(id, options.signal, async (signal) => {
			await this.startedAt(id, signal);
			const writer = await this.resume(id, signal);
			const hash = await this.append(id, writer, options.body ?? [], { ...options, signal }, true);
			await writer.commit();
			const size = writer.size;
			try {
				if (options.size !== undefined && options.size !== size) {
					throw new SizeInvalidError(options.size, size);
				}
				const actual = await this.digestOf(id, d, size, hash, signal);
				if (actual !== d.hex) {
					// A retry of a commit that failed after moving the bytes out finds the upload
					// empty: finish that commit when the upload's own digest state proves the blob.
					const moved = size === 0 ? await this.movedOutSize(id, d, signal) : undefined;
					if (moved !== undefined) return await this.link(id, d, moved, signal);
					throw new DigestInvalidError(digest, "digest does not match uploaded content");
				}
			} catch (err) {
				// Only a broken promise discards the upload. A backend fault (a failed read of a
				// digest state, say) must leave it in place for the client's retry.
				if (err instanceof DigestInvalidError || err instanceof SizeInvalidError) {
					await this.remove(id);
				}
				throw err;
			}
			await this.blobs.adopt(d, this.layout.uploadData(this.repository, id), size, signal);
			return this.link(id, d, size, signal);
		});
	}

	async cancel(id: string, options: { signal?: AbortSignal } = {}): Promise<void> {
		await this.locked(id, options.signal, async (signal) => {
			await this.startedAt(id, signal);
			await this.remove(id);
		});
	}

	private async startedAt(id: string, signal?: AbortSignal): Promise<Date> {
		if (!UPLOAD_ID.test(id)) throw new BlobUploadUnknownError(this.repository, id);
		let raw: Buffer;
		try {
			raw = await this.driver.getContent(this.layout.uploadStartedAt(this.repository, id), {
				signal,
			});
		} catch (err) {
			if (err instanceof PathNotFoundError) {
				throw new BlobUploadUnknownError(this.repository, id, { cause: err });
			}
			throw err;
		}
		const date = new Date(raw.toString("utf8").trim());
		if (Number.isNaN(date.getTime())) {
			throw new BlobUploadInvalidError(`upload ${id} has an unreadable start time`);
		}
		return date;
	}

	private async resume(id: string, signal?: AbortSignal): Promise<FileWriter> {
		const path = this.layout.uploadData(this.repository, id);
		try {
			return await this.driver.writer(path, { append: true, signal });
		} catch (err) {
			// No data object yet: nothing has been written since start.
			if (!(err instanceof PathNotFoundError)) throw err;
			return this.driver.writer(path, { append: false, signal });
		}
	}

	/**
	 * Stream a body onto the writer, hashing as it goes. Whatever arrives is persisted even when
	 * the body fails half-way (a client that disconnects resumes from the reported offset), and the
	 * digest state is saved for the new offset. Returns the hash at the writer's end, or undefined
	 * when no state was available to continue from.
	 */
	private async append(
		id: string,
		writer: FileWriter,
		body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
		options: WriteOptions,
		committing: boolean,
	): Promise<ResumableHash | undefined> {
		const { signal } = options;
		if (options.offset !== undefined && options.offset !== writer.size) {
			await writer.close();
			throw new RangeInvalidError(id, writer.size, options.offset);
		}
		const start = writer.size;
		const hash = await this.hashStates.load(this.repository, id, "sha256", start, signal);
		let written = 0;
		let failure: unknown;
		try {
			for await (const chunk of body) {
				if (options.length !== undefined && written + chunk.length > options.length) {
					throw new SizeInvalidError(options.length, written + chunk.length);
				}
				// Hash while the driver writes: disk I/O and SHA-256 overlap instead of adding up.
				// Drivers chain their I/O through promises, so let that chain reach the backend
				// before the synchronous hash takes the thread.
				const pending = writer.write(chunk);
				if (hash && chunk.length >= OVERLAP_MIN) await yieldToIO();
				hash?.update(chunk);
				await pending;
				written += chunk.length;
			}
			if (options.length !== undefined && written !== options.length) {
				throw new SizeInvalidError(options.length, written);
			}
		} catch (err) {
			failure = err;
		}
		if (failure !== undefined || !committing) {
			await writer.close();
		}
		// After a failed driver write the hash may be a chunk ahead of the data: save only a state
		// that matches the bytes written.
		if (hash && written > 0 && hash.length === start + written) {
			await this.hashStates.save(this.repository, id, hash);
		}
		if (failure !== undefined) throw failure;
		return hash;
	}

	/** Hex digest of the committed upload data, reading back only what no saved state covers. */
	private async digestOf(
		id: string,
		d: ParsedDigest,
		size: number,
		hash: ResumableHash | undefined,
		signal?: AbortSignal,
	): Promise<string> {
		let h = hash;
		if (d.algorithm !== "sha256") {
			h = createHash(d.algorithm);
		} else if (!h || h.length !== size) {
			h = await this.hashStates.latest(this.repository, id, "sha256", size, signal);
		}
		if (h.length < size) {
			const path = this.layout.uploadData(this.repository, id);
			const stream = await this.driver.reader(path, h.length, { signal });
			for await (const chunk of stream) h.update(chunk as Buffer);
		}
		return h.digest();
	}

	/** The last steps of a commit: grant the repository the blob, then drop the upload. */
	private async link(
		id: string,
		d: ParsedDigest,
		size: number,
		signal?: AbortSignal,
	): Promise<Descriptor> {
		await this.links.link(d, signal);
		// Hold the blob against a concurrent garbage collection (gc/fence.ts). When the blob was
		// stored already, this upload's bytes are still here to put back should it be collected.
		const data = this.layout.uploadData(this.repository, id);
		const restore = async () => {
			// Only this upload's own bytes: a retried commit's upload may be empty by now. (A
			// zero-byte blob needs none: adopt writes it.)
			const held = await this.driver.stat(data, { signal }).catch((err: unknown) => {
				if (err instanceof PathNotFoundError) return undefined;
				throw err;
			});
			if ((held?.size ?? 0) !== size) return false;
			await this.blobs.adopt(d, data, size, signal);
			return true;
		};
		if ((await this.links.settle(d, restore, signal)).length > 0) {
			await this.remove(id);
			throw new BlobUploadInvalidError(
				`${d.digest} was garbage collected while being committed: upload it again`,
			);
		}
		await this.retire(id);
		return { digest: d.digest, size, mediaType: DEFAULT_BLOB_MEDIA_TYPE };
	}

	/**
	 * End a committed upload. Removing its start time makes it unknown to every later request at
	 * once; the rest (a digest state per request: 64 for a 1 GiB push in 16 MiB chunks) is removed
	 * after the response, so a commit takes as long for 64 chunks as for one. What a crash leaves
	 * of it has no start time and is purged by age like any other abandoned upload.
	 */
	private async retire(id: string): Promise<void> {
		try {
			await this.driver.delete(this.layout.uploadStartedAt(this.repository, id));
		} catch (err) {
			if (!(err instanceof PathNotFoundError)) throw err;
		}
		await this.afterResponse.run(`remove committed upload ${this.repository}/${id}`, () =>
			this.remove(id),
		);
	}

	/**
	 * The size of blob `d` when this upload is the one that was moved to it: the blob is stored
	 * and the upload still holds a digest state, at the blob's size, that hashes to `d`. Nothing
	 * else may link a blob without its bytes, or any upload could claim any other repository's
	 * content by digest.
	 */
	private async movedOutSize(
		id: string,
		d: ParsedDigest,
		signal?: AbortSignal,
	): Promise<number | undefined> {
		if (d.algorithm !== "sha256") return undefined;
		const info = await this.blobs.stat(d, signal);
		if (!info || info.size === 0) return undefined;
		const state = await this.hashStates.load(this.repository, id, "sha256", info.size, signal);
		return state?.digest() === d.hex ? info.size : undefined;
	}

	private async remove(id: string): Promise<void> {
		try {
			await this.driver.delete(this.layout.upload(this.repository, id));
		} catch (err) {
			if (!(err instanceof PathNotFoundError)) throw err;
		}
	}

	/**
	 * Run `fn` holding the upload's lock. `fn` gets the request's signal, combined with the lock's
	 * own when it has one: a lost lease aborts the driver calls, so a stalled holder stops writing
	 * before the next holder starts.
	 */
	private async locked<T>(
		id: string,
		signal: AbortSignal | undefined,
		fn: (signal: AbortSignal | undefined) => Promise<T>,
	): Promise<T> {
		const lock: Lock | undefined = await this.locker.tryAcquire(`upload:${this.repository}:${id}`);
		if (!lock) throw new UploadConflictError(id);
		const signals = [signal, lock.signal].filter((s): s is AbortSignal => s !== undefined);
		try {
			return await fn(signals.length > 1 ? AbortSignal.any(signals) : signals[0]);
		} finally {
			await lock.release();
		}
	}
}

/** RFC 3339 in UTC without fractional seconds, as Distribution writes `startedat`. */
export function formatStartedAt(date: Date): string {
	return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}
