import { Readable } from "node:stream";
import type { Bucket, File, FileMetadata } from "@google-cloud/storage";
import { type RetryPolicy, withRetries } from "@stowage/core";
import { httpStatus, isAbort, isNotFound, isRetryable } from "./gcs-errors.js";
import type { Limiter } from "./limiter.js";
import { raceAbort } from "./race-abort.js";

/** What the driver needs to know of an object generation. */
export interface ObjectInfo {
	name: string;
	size: number;
	generation: string;
	updated: Date;
	md5Hash?: string;
}

export function objectInfo(meta: FileMetadata | Record<string, unknown>): ObjectInfo {
	const m = meta as Record<string, unknown>;
	const info: ObjectInfo = {
		name: String(m.name),
		size: Number(m.size ?? 0),
		generation: String(m.generation),
		updated: new Date(String(m.updated ?? m.timeCreated ?? 0)),
	};
	if (typeof m.md5Hash === "string") info.md5Hash = m.md5Hash;
	return info;
}

export interface ListQuery {
	prefix: string;
	delimiter?: string;
	pageToken?: string;
	maxResults?: number;
	startOffset?: string;
}

export interface ListPage {
	items: ObjectInfo[];
	prefixes: string[];
	nextPageToken?: string;
}

/** A generation precondition: "0" means the object must not exist yet. */
export interface Precondition {
	ifGenerationMatch?: string;
}

const OCTET_STREAM = "application/octet-stream";

/**
 * The JSON API calls the driver makes, through @google-cloud/storage. Every call honours the
 * operation's signal, takes a slot of the concurrency limiter for its own duration, and is
 * retried with backoff on transient failures. Only requests that are safe to repeat come here:
 * idempotent ones, or ones guarded by a generation precondition (whose 412 after a retry the
 * caller resolves).
 */
export class BucketApi {
	constructor(
		readonly bucket: Bucket,
		private readonly limiter: Limiter,
		readonly policy: RetryPolicy,
	) {}

	private call<T>(signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
		return withRetries(this.policy, () => this.limiter.run(() => raceAbort(fn(), signal)), {
			signal,
			retryable: (err) => isRetryable(err) && !isAbort(err, signal),
		});
	}

	private file(name: string): File {
		return this.bucket.file(name);
	}

	/** The object's metadata, or undefined when it does not exist. */
	async stat(name: string, signal?: AbortSignal): Promise<ObjectInfo | undefined> {
		try {
			const [meta] = await this.call(signal, () => this.file(name).getMetadata());
			return objectInfo(meta);
		} catch (err) {
			if (isNotFound(err)) return undefined;
			throw err;
		}
	}

	async list(q: ListQuery, signal?: AbortSignal): Promise<ListPage> {
		const [files, , response] = await this.call(signal, () =>
			this.bucket.getFiles({
				prefix: q.prefix,
				autoPaginate: false,
				maxResults: q.maxResults ?? 1000,
				...(q.delimiter !== undefined && { delimiter: q.delimiter }),
				...(q.pageToken !== undefined && { pageToken: q.pageToken }),
				...(q.startOffset !== undefined && { startOffset: q.startOffset }),
			}),
		);
		const body = (response ?? {}) as { prefixes?: string[]; nextPageToken?: string };
		return {
			items: files.map((f) => objectInfo(f.metadata)),
			prefixes: body.prefixes ?? [],
			...(body.nextPageToken && { nextPageToken: body.nextPageToken }),
		};
	}

	/** Every object below a prefix, page by page (each page is handed over as it arrives). */
	async *listAll(prefix: string, signal?: AbortSignal): AsyncGenerator<ObjectInfo[]> {
		let pageToken: string | undefined;
		do {
			const page = await this.list({ prefix, ...(pageToken && { pageToken }) }, signal);
			yield page.items;
			pageToken = page.nextPageToken;
		} while (pageToken);
	}

	/**
	 * A single-request upload (multipart). The MD5 travels in the object resource, so GCS refuses
	 * content that arrived damaged.
	 */
	async upload(
		name: string,
		data: Uint8Array,
		md5Hash: string,
		pre: Precondition,
		signal?: AbortSignal,
	): Promise<ObjectInfo> {
		return this.call(signal, async () => {
			const file = this.file(name);
			await file.save(Buffer.from(data.buffer, data.byteOffset, data.byteLength), {
				resumable: false,
				validation: false,
				metadata: { contentType: OCTET_STREAM, md5Hash },
				...(pre.ifGenerationMatch !== undefined && {
					preconditionOpts: { ifGenerationMatch: pre.ifGenerationMatch },
				}),
			});
			return objectInfo(file.metadata);
		});
	}

	/** Delete; false when there was nothing to delete (404). */
	async remove(name: string, pre: Precondition, signal?: AbortSignal): Promise<boolean> {
		try {
			await this.call(signal, () =>
				this.file(name).delete(
					pre.ifGenerationMatch !== undefined ? { ifGenerationMatch: pre.ifGenerationMatch } : {},
				),
			);
			return true;
		} catch (err) {
			if (isNotFound(err)) return false;
			throw err;
		}
	}

	/** objects.compose: `dest` becomes the concatenation of the given generations. */
	async compose(
		dest: string,
		sources: readonly { name: string; generation: string }[],
		pre: Precondition,
		signal?: AbortSignal,
	): Promise<ObjectInfo> {
		const [body] = await this.call(signal, () =>
			this.file(dest).request({
				method: "POST",
				uri: "/compose",
				qs: pre.ifGenerationMatch !== undefined ? { ifGenerationMatch: pre.ifGenerationMatch } : {},
				json: {
					destination: { contentType: OCTET_STREAM },
					sourceObjects: sources.map((s) => ({ name: s.name, generation: s.generation })),
				},
			}),
		);
		return objectInfo(body as Record<string, unknown>);
	}

	/**
	 * One objects.rewrite call copying a pinned source generation to `dest`. GCS may need several
	 * calls for a large object (across locations or storage classes): the caller loops on the
	 * token.
	 */
	async rewriteStep(
		source: { name: string; generation: string },
		dest: string,
		token: string | undefined,
		signal?: AbortSignal,
	): Promise<{ done: boolean; token?: string; object?: ObjectInfo }> {
		const [body] = await this.call(signal, () =>
			this.file(source.name).request({
				method: "POST",
				uri: `/rewriteTo/b/${this.bucket.name}/o/${encodeURIComponent(dest)}`,
				qs: {
					sourceGeneration: source.generation,
					...(token !== undefined && { rewriteToken: token }),
				},
				json: {},
			}),
		);
		const r = body as { done?: boolean; rewriteToken?: string; resource?: Record<string, unknown> };
		if (r.done) return { done: true, ...(r.resource && { object: objectInfo(r.resource) }) };
		if (!r.rewriteToken) throw new Error("rewrite answered neither done nor a rewriteToken");
		return { done: false, token: r.rewriteToken };
	}

	/** Open a resumable upload session for `name`; its URI is all later requests need. */
	async startSession(name: string, pre: Precondition, signal?: AbortSignal): Promise<string> {
		const [uri] = await this.call(signal, () =>
			this.file(name).createResumableUpload({
				metadata: { contentType: OCTET_STREAM },
				...(pre.ifGenerationMatch !== undefined && {
					preconditionOpts: { ifGenerationMatch: pre.ifGenerationMatch },
				}),
			}),
		);
		return uri;
	}

	/**
	 * A stream of the object from `offset`, returned once GCS has answered with the headers (so
	 * a missing object rejects here, with a 404). An offset at or past the end gives an empty
	 * stream (GCS answers 416). The limiter slot is held only until the headers arrive.
	 */
	async openRead(name: string, offset: number, signal?: AbortSignal): Promise<Readable> {
		return this.call(signal, async () => {
			const stream = this.file(name).createReadStream({
				validation: false,
				decompress: false,
				...(offset > 0 && { start: offset }),
			});
			try {
				await responseOf(stream, signal);
			} catch (err) {
				stream.destroy();
				if (httpStatus(err) === 416) return Readable.from([]);
				throw err;
			}
			return stream;
		});
	}
}

/** Start the SDK's (lazy) download and wait for a 2xx response or the error it turns into. */
function responseOf(stream: Readable, signal?: AbortSignal): Promise<void> {
	return new Promise<void>((resolve, reject) => {
		const cleanup = () => {
			stream.off("response", onResponse);
			stream.off("error", onError);
			signal?.removeEventListener("abort", onAbort);
		};
		const onResponse = (res: { statusCode?: number }) => {
			if ((res.statusCode ?? 0) < 300) {
				cleanup();
				resolve();
			}
			// Otherwise the SDK reads the error body and emits the error.
		};
		const onError = (err: unknown) => {
			cleanup();
			reject(err);
		};
		const onAbort = () => {
			cleanup();
			reject(signal?.reason);
		};
		stream.on("response", onResponse);
		stream.on("error", onError);
		signal?.addEventListener("abort", onAbort, { once: true });
		stream.read(0);
	});
}
