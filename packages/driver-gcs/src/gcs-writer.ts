import { type FileWriter, PathNotFoundError } from "@stowage/core";
import type { BucketApi } from "./bucket-api.js";
import { SessionLostError } from "./gcs-errors.js";
import type { ObjectNames } from "./object-names.js";
import { ResumableSession, type SessionDeps } from "./session.js";
import {
	compact,
	loadChain,
	MAX_COMPOSE,
	md5Base64,
	type Part,
	removeAllParts,
	removeParts,
	uploadPart,
} from "./upload-parts.js";

export interface WriterHost {
	readonly name: string;
	readonly api: BucketApi;
	readonly names: ObjectNames;
	readonly chunksize: number;
	/** Parallel deletes when parts are removed. */
	readonly width: number;
	readonly session: SessionDeps;
}

const INITIAL_BUFFER = 64 * 1024;

/**
 * A resumable writer built from composition: every session that ends with close() leaves one
 * immutable part object (`<key>~upload/<offset>`) holding exactly the bytes it received, and
 * commit() composes the parts into the key. The resume offset is the sum of the parts GCS
 * lists, so an upload stopped at any byte resumes exactly there, in any process; nothing is
 * kept in memory between sessions.
 *
 * Within a session the bytes stream through a resumable upload session in `chunksize` requests
 * (a multiple of 256 KiB), so memory stays bounded by the chunk size whatever the part's size;
 * a session that never fills a chunk is uploaded in one request at close. A session URI lives
 * only as long as its writer: if GCS drops it (expiry), the writer fails and the upload resumes
 * from its last durable part; no acknowledged byte is lost and no offset is ever guessed.
 *
 * Appending to committed content continues the object at the key: the parts start at its size
 * and commit composes it and them back onto the key, conditional on its generation.
 */
export class GcsWriter implements FileWriter {
	private buffer = Buffer.alloc(0);
	private fill = 0;
	private session: ResumableSession | undefined;
	/** Bytes of the current part already handed to its session. */
	private sent = 0;
	private broken: Error | undefined;
	private total: number;

	private constructor(
		private readonly host: WriterHost,
		private readonly path: string,
		/** Committed content this upload continues (the object at the key), if any. */
		private readonly base: Part | undefined,
		private parts: Part[],
		/** Generation of an empty marker part at offset 0, which the first real part replaces. */
		private replaceGeneration: string | undefined,
		private readonly signal: AbortSignal | undefined,
	) {
		this.total = this.partOffset;
	}

	static async open(
		host: WriterHost,
		path: string,
		append: boolean,
		signal?: AbortSignal,
	): Promise<GcsWriter> {
		const { api, names } = host;
		if (!append) {
			// A new upload: whatever an earlier one left behind is discarded.
			await removeAllParts(api, names, path, host.width, signal);
			return new GcsWriter(host, path, undefined, [], undefined, signal);
		}
		const chain = await loadChain(api, names, path, signal);
		if (!chain) {
			// No upload in progress: continue the committed content, if there is any.
			const key = names.key(path);
			const committed = await api.stat(key, signal);
			if (!committed) throw new PathNotFoundError(host.name, path);
			const base =
				committed.size > 0
					? { name: key, offset: 0, size: committed.size, generation: committed.generation }
					: undefined;
			return new GcsWriter(host, path, base, [], undefined, signal);
		}
		if (chain.stale.length > 0) {
			await removeParts(api, chain.stale, host.width, signal).catch(() => {});
		}
		const [first] = chain.parts;
		if (!chain.base && chain.parts.length === 1 && first && first.size === 0) {
			return new GcsWriter(host, path, undefined, [], first.generation, signal);
		}
		return new GcsWriter(host, path, chain.base, chain.parts, undefined, signal);
	}

	get size(): number {
		return this.total;
	}

	/** Where the part being written starts: the end of the durable content. */
	private get partOffset(): number {
		return this.parts.reduce((n, p) => n + p.size, this.base?.size ?? 0);
	}

	async write(chunk: Uint8Array): Promise<void> {
		if (this.broken) throw this.broken;
		const cap = this.host.chunksize;
		let off = 0;
		while (off < chunk.length) {
			const n = Math.min(cap - this.fill, chunk.length - off);
			this.reserve(this.fill + n);
			this.buffer.set(chunk.subarray(off, off + n), this.fill);
			this.fill += n;
			this.total += n;
			off += n;
			if (this.fill === cap) await this.flush();
		}
	}

	async close(): Promise<void> {
		await this.finishPart(true);
		if (this.parts.length >= MAX_COMPOSE) await this.compactParts(1);
		this.release();
	}

	async commit(): Promise<void> {
		if (this.broken) throw this.broken;
		const { api, names } = this.host;
		const key = names.key(this.path);
		if (this.base && this.parts.length === 0 && !this.session && this.fill === 0) {
			// Nothing new on committed content: it is already what commit would make.
		} else if (!this.base && this.parts.length === 0 && !this.session) {
			// Everything is in the buffer: one request straight to the key.
			const data = this.buffer.subarray(0, this.fill);
			await api.upload(key, data, md5Base64(data), {}, this.signal);
			if (this.replaceGeneration !== undefined) {
				await api.remove(
					names.partName(this.path, 0),
					{ ifGenerationMatch: this.replaceGeneration },
					this.signal,
				);
			}
		} else if (this.base) {
			// Committed content continued: compose it and the parts onto the key, conditional on
			// the generation the parts continue.
			await this.finishPart(false);
			await this.compactParts(MAX_COMPOSE - 1);
			const composed = await compact(api, [this.base, ...this.parts], this.host.width, this.signal);
			this.expectSize(composed.size, key);
		} else {
			await this.finishPart(false);
			await this.compactParts(MAX_COMPOSE);
			const composed = await api.compose(key, this.parts, {}, this.signal);
			this.expectSize(composed.size, key);
			await removeParts(api, this.parts, this.host.width, this.signal);
		}
		this.release();
	}

	async cancel(): Promise<void> {
		const { api, names } = this.host;
		await this.session?.cancel();
		this.session = undefined;
		await removeAllParts(api, names, this.path, this.host.width, this.signal);
		await api.remove(names.key(this.path), {}, this.signal);
		this.release();
	}

	private expectSize(size: number, key: string): void {
		if (size !== this.total)
			throw new Error(`composed ${size} bytes at ${key}, expected ${this.total}`);
	}

	/** Grow the buffer (doubling, up to the chunk size) so small uploads stay small in memory. */
	private reserve(needed: number): void {
		if (needed <= this.buffer.length) return;
		const size = Math.min(
			this.host.chunksize,
			Math.max(INITIAL_BUFFER, needed, this.buffer.length * 2),
		);
		const next = Buffer.allocUnsafe(size);
		this.buffer.copy(next, 0, 0, this.fill);
		this.buffer = next;
	}

	private release(): void {
		this.buffer = Buffer.alloc(0);
		this.fill = 0;
	}

	/** Send a full buffer as a non-final chunk of this session's part. */
	private async flush(): Promise<void> {
		try {
			const session = await this.ensureSession();
			await session.send(this.buffer.subarray(0, this.fill), this.sent, undefined, this.signal);
			this.sent += this.fill;
			this.fill = 0;
		} catch (err) {
			this.breakOn(err);
			throw err;
		}
	}

	private async ensureSession(): Promise<ResumableSession> {
		if (!this.session) {
			const name = this.host.names.partName(this.path, this.partOffset);
			const uri = await this.host.api.startSession(
				name,
				{ ifGenerationMatch: this.replaceGeneration ?? "0" },
				this.signal,
			);
			this.session = new ResumableSession(uri, this.host.session);
			this.sent = 0;
		}
		return this.session;
	}

	/**
	 * Make this session's bytes a durable part: finalize its resumable session, or upload the
	 * buffer in one request. With `marker`, an upload with no parts and no bytes still gets an
	 * empty part, so that `writer(path, {append: true})` finds it.
	 */
	private async finishPart(marker: boolean): Promise<void> {
		if (this.broken) throw this.broken;
		const { api, names } = this.host;
		const offset = this.partOffset;
		const name = names.partName(this.path, offset);
		let part: Part;
		try {
			if (this.session) {
				const size = this.sent + this.fill;
				const o = await this.session.send(
					this.buffer.subarray(0, this.fill),
					this.sent,
					size,
					this.signal,
				);
				if (!o || o.size !== size) {
					throw new Error(`the session finished ${name} with ${o?.size} bytes, expected ${size}`);
				}
				part = { name, offset, size, generation: o.generation };
			} else if (
				this.fill > 0 ||
				(marker && !this.base && this.parts.length === 0 && this.replaceGeneration === undefined)
			) {
				part = await uploadPart(
					api,
					name,
					offset,
					this.buffer.subarray(0, this.fill),
					this.replaceGeneration,
					this.signal,
				);
			} else {
				return;
			}
		} catch (err) {
			this.breakOn(err);
			throw err;
		}
		this.parts.push(part);
		this.replaceGeneration = undefined;
		this.session = undefined;
		this.sent = 0;
		this.fill = 0;
	}

	/** Compose runs of up to 32 parts until at most `limit` parts remain. */
	private async compactParts(limit: number): Promise<void> {
		while (this.parts.length > limit) {
			const run = this.parts.slice(0, MAX_COMPOSE);
			const merged = await compact(this.host.api, run, this.host.width, this.signal);
			this.parts = [merged, ...this.parts.slice(run.length)];
		}
	}

	/** A lost session took the bytes it held: this writer cannot go on (the upload can). */
	private breakOn(err: unknown): void {
		if (err instanceof SessionLostError) {
			this.broken = new Error(
				`${err.message}; the bytes of this session are lost, the upload resumes at ${this.partOffset}`,
				{ cause: err },
			);
		}
	}
}
