import { createHash } from "node:crypto";
import { type ParsedDigest, parseDigest } from "../digest.js";
import { PathNotFoundError } from "../driver/errors.js";
import type { StorageDriver } from "../driver/types.js";
import {
	BlobUnknownError,
	DigestInvalidError,
	ManifestBlobUnknownError,
	ManifestInvalidError,
	ManifestTooLargeError,
	ManifestUnknownError,
} from "../errors/registry-errors.js";
import type { Layout } from "../layout.js";
import { validateTag } from "../names.js";
import { deleteIfExists, mapLimit, readLink, writeLink } from "./links.js";
import { MANIFEST_SIZE_LIMIT, OCI_INDEX, OCI_MANIFEST } from "./media-types.js";
import { type ManifestDescriptor, type ParsedManifest, parseManifest } from "./parse.js";
import { listReferrers, type ReferrersIndex, referrerLink } from "./referrers.js";
import type { TagStore } from "./tag-store.js";

export interface ManifestDescriptorInfo {
	readonly digest: string;
	readonly size: number;
	readonly mediaType: string;
}

export interface StoredManifest {
	readonly descriptor: ManifestDescriptorInfo;
	readonly content: Buffer;
}

export interface PutManifestOptions {
	/** The request's Content-Type; the body's `mediaType` decides when it is absent or generic. */
	contentType?: string;
	/** Extra tags to point at the manifest (OCI 1.1 `?tag=` on a push by digest). */
	tags?: string[];
	signal?: AbortSignal;
}

export interface PutManifestResult {
	readonly descriptor: ManifestDescriptorInfo;
	/** The subject's digest when the manifest declares one (for the OCI-Subject header). */
	readonly subject?: string;
	readonly tags: string[];
}

export interface ManifestStoreContext {
	readonly driver: StorageDriver;
	readonly layout: Layout;
	/** The global content store; `put` verifies the digest and skips content already stored. */
	readonly blobs: {
		put(d: ParsedDigest, content: Uint8Array, signal?: AbortSignal): Promise<void>;
	};
	/** The repository's linked blobs: what a manifest references must be here. */
	readonly linkedBlobs: {
		stat(digest: string, options?: { signal?: AbortSignal }): Promise<{ size: number }>;
	};
	readonly tags: TagStore;
	/** Largest manifest accepted, in bytes. Default 4 MiB. */
	readonly sizeLimit?: number;
	/**
	 * Called once the revision (and referrer) links are written and before any tag: the garbage
	 * collection fence (gc/fence.ts) holds what the manifest references. It throws when something
	 * was collected meanwhile (ManifestBlobUnknownError: the revision is then withdrawn).
	 */
	readonly afterLink?: (
		manifest: { digest: ParsedDigest; content: Uint8Array; parsed: ParsedManifest },
		signal?: AbortSignal,
	) => Promise<void>;
}

/** How many backend calls one manifest operation keeps in flight. */
const CONCURRENCY = 8;

/**
 * A repository's manifests, in Distribution's layout: the bytes are a blob in the global store,
 * `_manifests/revisions/<alg>/<hex>/link` makes the manifest part of the repository, and tags
 * point at revisions. A manifest with a subject also gets a referrers link (see referrers.ts).
 */
export class ManifestStore {
	private readonly driver: StorageDriver;
	private readonly layout: Layout;
	readonly sizeLimit: number;

	constructor(
		readonly repository: string,
		private readonly context: ManifestStoreContext,
	) {
		this.driver = context.driver;
		this.layout = context.layout;
		this.sizeLimit = context.sizeLimit ?? MANIFEST_SIZE_LIMIT;
	}

	/** The digest a tag or digest reference names (a digest is not checked for existence). */
	async resolve(reference: string, options: { signal?: AbortSignal } = {}): Promise<string> {
		if (isDigestReference(reference)) return parseDigest(reference).digest;
		return this.context.tags.get(reference, options);
	}

	/** ManifestUnknownError when the tag or revision does not exist. */
	async get(reference: string, options: { signal?: AbortSignal } = {}): Promise<StoredManifest> {
		const d = parseDigest(await this.resolve(reference, options));
		const content = await this.readRevision(d, options.signal);
		if (!content) throw new ManifestUnknownError(this.repository, reference);
		return {
			descriptor: { digest: d.digest, size: content.length, mediaType: storedMediaType(content) },
			content,
		};
	}

	async exists(digest: string, options: { signal?: AbortSignal } = {}): Promise<boolean> {
		return (await this.revisionSize(parseDigest(digest), options.signal)) !== undefined;
	}

	/**
	 * Store a manifest under a tag or a digest. Everything it references must already be in the
	 * repository (ManifestBlobUnknownError lists what is not); a digest reference must match the
	 * content. Writes go content, revision, referrer link, tags: a crash leaves at worst an
	 * unreferenced revision, never a tag pointing at nothing.
	 */
	async put(
		reference: string,
		content: Uint8Array,
		options: PutManifestOptions = {},
	): Promise<PutManifestResult> {
		const { signal } = options;
		if (content.length > this.sizeLimit) {
			throw new ManifestTooLargeError(content.length, this.sizeLimit);
		}
		const parsed = parseManifest(content, options.contentType);
		const tags = [...(options.tags ?? [])];
		let d: ParsedDigest;
		if (isDigestReference(reference)) {
			const claimed = parseDigest(reference);
			d = digestOf(content, claimed.algorithm);
			if (d.digest !== claimed.digest) {
				throw new DigestInvalidError(reference, "manifest digest does not match its content");
			}
		} else {
			tags.unshift(reference);
			d = digestOf(content, "sha256");
		}
		for (const tag of tags) validateTag(tag);

		await this.verifyReferences(parsed, signal);
		await this.context.blobs.put(d, content, signal);
		await writeLink(this.driver, this.layout.manifestRevisionLink(this.repository, d), d, signal);
		if (parsed.subject) {
			const s = parseDigest(parsed.subject.digest);
			await writeLink(this.driver, referrerLink(this.layout, this.repository, s, d), d, signal);
		}
		try {
			await this.context.afterLink?.({ digest: d, content, parsed }, signal);
		} catch (err) {
			// References lost to a collection: the revision would name missing content.
			if (err instanceof ManifestBlobUnknownError) {
				const revision = this.layout.manifestRevisionLink(this.repository, d);
				await deleteIfExists(this.driver, revision.slice(0, -"/link".length), signal);
			}
			throw err;
		}
		const unique = [...new Set(tags)];
		for (const tag of unique) await this.context.tags.set(tag, d.digest, { signal });
		return {
			descriptor: { digest: d.digest, size: content.length, mediaType: parsed.mediaType },
			...(parsed.subject ? { subject: parsed.subject.digest } : {}),
			tags: unique,
		};
	}

	/**
	 * Delete by tag: the tag only. Delete by digest: the revision, every tag pointing at it and
	 * its referrers link; the bytes stay for garbage collection.
	 */
	async delete(reference: string, options: { signal?: AbortSignal } = {}): Promise<void> {
		const { signal } = options;
		if (!isDigestReference(reference)) {
			await this.context.tags.delete(reference, options);
			return;
		}
		const d = parseDigest(reference);
		const content = await this.readRevision(d, signal);
		if (!content) throw new ManifestUnknownError(this.repository, reference);
		for (const tag of await this.context.tags.lookup(d.digest, options)) {
			await deleteIfExists(this.driver, this.layout.tag(this.repository, tag), signal);
		}
		const subject = subjectOf(content);
		if (subject) {
			const link = referrerLink(this.layout, this.repository, subject, d);
			await deleteIfExists(this.driver, link.slice(0, -"/link".length), signal);
		}
		const revision = this.layout.manifestRevisionLink(this.repository, d);
		await deleteIfExists(this.driver, revision.slice(0, -"/link".length), signal);
	}

	/**
	 * The referrers of a subject as an OCI index, optionally only those of one artifactType. The
	 * subject itself need not exist: referrers may be pushed before it.
	 */
	async referrers(
		subject: string,
		options: { artifactType?: string; signal?: AbortSignal } = {},
	): Promise<ReferrersIndex> {
		const s = parseDigest(subject);
		return listReferrers(this.driver, this.layout, this.repository, s, {
			...options,
			read: (d) => this.readRevision(d, options.signal),
		});
	}

	/** The manifest's bytes when the repository holds the revision, else undefined. */
	private async readRevision(d: ParsedDigest, signal?: AbortSignal): Promise<Buffer | undefined> {
		const link = await readLink(
			this.driver,
			this.layout.manifestRevisionLink(this.repository, d),
			signal,
		);
		if (!link) return undefined;
		try {
			return await this.driver.getContent(this.layout.blobData(link), { signal });
		} catch (err) {
			// A revision whose bytes were garbage collected is as good as missing.
			if (err instanceof PathNotFoundError) return undefined;
			throw err;
		}
	}

	private async revisionSize(d: ParsedDigest, signal?: AbortSignal): Promise<number | undefined> {
		const link = await readLink(
			this.driver,
			this.layout.manifestRevisionLink(this.repository, d),
			signal,
		);
		if (!link) return undefined;
		try {
			const info = await this.driver.stat(this.layout.blobData(link), { signal });
			return info.isDir ? undefined : info.size;
		} catch (err) {
			if (err instanceof PathNotFoundError) return undefined;
			throw err;
		}
	}

	private async verifyReferences(parsed: ParsedManifest, signal?: AbortSignal): Promise<void> {
		const missing = new Set<string>();
		const wrongSize: string[] = [];
		const check = (ref: ManifestDescriptor, size: number | undefined) => {
			if (size === undefined) missing.add(ref.digest);
			else if (size !== ref.size) {
				wrongSize.push(`${ref.digest} is ${size} bytes, the descriptor says ${ref.size}`);
			}
		};
		await mapLimit(parsed.blobs, CONCURRENCY, async (blob) => {
			try {
				check(blob, (await this.context.linkedBlobs.stat(blob.digest, { signal })).size);
			} catch (err) {
				if (!(err instanceof BlobUnknownError)) throw err;
				check(blob, undefined);
			}
		});
		await mapLimit(parsed.manifests, CONCURRENCY, async (child) => {
			check(child, await this.revisionSize(parseDigest(child.digest), signal));
		});
		if (missing.size > 0) throw new ManifestBlobUnknownError([...missing]);
		if (wrongSize.length > 0) throw new ManifestInvalidError(wrongSize.join("; "));
	}
}

/** Tags never contain ':'; digests always do. */
export function isDigestReference(reference: string): boolean {
	return reference.includes(":");
}

function digestOf(content: Uint8Array, algorithm: ParsedDigest["algorithm"]): ParsedDigest {
	return parseDigest(`${algorithm}:${createHash(algorithm).update(content).digest("hex")}`);
}

/**
 * The media type of stored bytes, read leniently: a store written by Distribution may hold
 * formats Stowage no longer accepts (schema 1), and those must still be served as they are.
 */
export function storedMediaType(content: Uint8Array): string {
	try {
		const body = JSON.parse(Buffer.from(content).toString("utf8"));
		if (typeof body?.mediaType === "string" && body.mediaType) return body.mediaType;
		if (body?.schemaVersion === 1) {
			return body.signatures
				? "application/vnd.docker.distribution.manifest.v1+prettyjws"
				: "application/vnd.docker.distribution.manifest.v1+json";
		}
		if (Array.isArray(body?.manifests)) return OCI_INDEX;
	} catch {
		// Not JSON: serve it as the default below.
	}
	return OCI_MANIFEST;
}

function subjectOf(content: Uint8Array): ParsedDigest | undefined {
	try {
		const digest = JSON.parse(Buffer.from(content).toString("utf8"))?.subject?.digest;
		return typeof digest === "string" ? parseDigest(digest) : undefined;
	} catch {
		return undefined;
	}
}
