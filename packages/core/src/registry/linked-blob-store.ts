import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { type ParsedDigest, parseDigest } from "../digest.js";
import { PathNotFoundError } from "../driver/errors.js";
import type { StorageDriver } from "../driver/types.js";
import { BlobUnknownError } from "../errors/registry-errors.js";
import type { CollectionFence } from "../gc/fence.js";
import type { Layout } from "../layout.js";
import { deleteIfExists } from "../manifests/links.js";
import { isValidRepositoryName } from "../names.js";
import type { BlobStore } from "./blob-store.js";
import { DEFAULT_BLOB_MEDIA_TYPE, type Descriptor } from "./descriptor.js";
import { limitStream } from "./limit-stream.js";

export interface OpenOptions {
	offset?: number;
	length?: number;
	signal?: AbortSignal;
}

export interface PutOptions {
	digest?: string;
	mediaType?: string;
	signal?: AbortSignal;
}

/**
 * A repository's view of the blob store: a blob exists for a repository only while the
 * repository holds a link to it (`_layers/<alg>/<hex>/link`). Every read goes through the link,
 * so content pushed to one repository is not readable from another without a mount.
 */
export class LinkedBlobStore {
	constructor(
		readonly repository: string,
		private readonly driver: StorageDriver,
		private readonly layout: Layout,
		private readonly blobs: BlobStore,
		/** Garbage collection's fence (gc/fence.ts); absent, links are written unguarded. */
		private readonly fence?: CollectionFence,
	) {}

	async stat(digest: string, options: { signal?: AbortSignal } = {}): Promise<Descriptor> {
		const d = parseDigest(digest);
		const { signal } = options;
		let target: ParsedDigest;
		try {
			const link = await this.driver.getContent(this.layout.layerLink(this.repository, d), {
				signal,
			});
			target = parseDigest(link.toString("utf8").trim());
		} catch (err) {
			throw this.unknown(d, err);
		}
		const info = await this.blobs.stat(target, signal);
		// A link whose blob is gone (garbage collected) must not claim the blob exists.
		if (!info) throw new BlobUnknownError(this.repository, d.digest);
		return { digest: d.digest, size: info.size, mediaType: DEFAULT_BLOB_MEDIA_TYPE };
	}

	async open(
		digest: string,
		options: OpenOptions = {},
	): Promise<{ descriptor: Descriptor; stream: Readable }> {
		const descriptor = await this.stat(digest, options);
		const offset = Math.min(options.offset ?? 0, descriptor.size);
		const available = descriptor.size - offset;
		const length = Math.min(options.length ?? available, available);
		const path = this.layout.blobData(parseDigest(descriptor.digest));
		let stream: Readable;
		try {
			stream = await this.driver.reader(path, offset, { signal: options.signal });
		} catch (err) {
			throw this.unknown(parseDigest(digest), err);
		}
		return {
			descriptor,
			stream: length === available ? stream : limitStream(stream, length),
		};
	}

	async redirectURL(
		digest: string,
		options: { method: "GET" | "HEAD"; expiresIn?: number; signal?: AbortSignal },
	): Promise<string | undefined> {
		if (!this.driver.capabilities.redirect) return undefined;
		const descriptor = await this.stat(digest, options);
		return this.driver.redirectURL(this.layout.blobData(parseDigest(descriptor.digest)), options);
	}

	/**
	 * Link a blob another repository holds, copying nothing. Undefined when it cannot be done (bad
	 * source name, or the source has no such blob), so the caller falls back to an upload.
	 */
	async mount(
		digest: string,
		fromRepository: string,
		options: { signal?: AbortSignal } = {},
	): Promise<Descriptor | undefined> {
		if (!isValidRepositoryName(fromRepository)) return undefined;
		const source = new LinkedBlobStore(fromRepository, this.driver, this.layout, this.blobs);
		let descriptor: Descriptor;
		try {
			descriptor = await source.stat(digest, options);
		} catch (err) {
			if (err instanceof BlobUnknownError) return undefined;
			throw err;
		}
		const d = parseDigest(descriptor.digest);
		await this.link(d, options.signal);
		// A collection may be deleting the blob right now: then nothing was mounted after all.
		if ((await this.settle(d, undefined, options.signal)).length > 0) {
			const link = this.layout.layerLink(this.repository, d);
			await deleteIfExists(this.driver, link.slice(0, -"/link".length), options.signal);
			return undefined;
		}
		return descriptor;
	}

	/** Remove the repository's link; the bytes stay until garbage collection. */
	async delete(digest: string, options: { signal?: AbortSignal } = {}): Promise<void> {
		const d = parseDigest(digest);
		const dir = this.layout.layerLink(this.repository, d).replace(/\/link$/, "");
		try {
			await this.driver.delete(dir, options);
		} catch (err) {
			throw this.unknown(d, err);
		}
	}

	/** Store small content and link it (manifests; single-request pushes of small blobs). */
	async put(content: Uint8Array, options: PutOptions = {}): Promise<Descriptor> {
		const d = options.digest
			? parseDigest(options.digest)
			: parseDigest(`sha256:${createHash("sha256").update(content).digest("hex")}`);
		await this.blobs.put(d, content, options.signal);
		await this.link(d, options.signal);
		const restore = async () => {
			await this.blobs.put(d, content, options.signal);
			return true;
		};
		if ((await this.settle(d, restore, options.signal)).length > 0) {
			throw new BlobUnknownError(this.repository, d.digest);
		}
		return {
			digest: d.digest,
			size: content.length,
			mediaType: options.mediaType ?? DEFAULT_BLOB_MEDIA_TYPE,
		};
	}

	/** Grant this repository access to a stored blob. */
	async link(d: ParsedDigest, signal?: AbortSignal): Promise<void> {
		await this.driver.putContent(this.layout.layerLink(this.repository, d), Buffer.from(d.digest), {
			signal,
		});
	}

	/**
	 * After linking: hold the blob against a concurrent collection (gc/fence.ts, steps b and c).
	 * Returns what is lost for good.
	 */
	settle(
		d: ParsedDigest,
		restore: (() => Promise<boolean>) | undefined,
		signal?: AbortSignal,
	): Promise<ParsedDigest[]> {
		if (!this.fence) return Promise.resolve([]);
		const link = this.layout.layerLink(this.repository, d);
		return this.fence.settle([{ digest: d, link, ...(restore ? { restore } : {}) }], signal);
	}

	private unknown(d: ParsedDigest, err: unknown): unknown {
		return err instanceof PathNotFoundError
			? new BlobUnknownError(this.repository, d.digest, { cause: err })
			: err;
	}
}
