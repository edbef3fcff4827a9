import { createHash } from "node:crypto";
import type { ParsedDigest } from "../digest.js";
import { PathNotFoundError } from "../driver/errors.js";
import type { FileInfo, StorageDriver } from "../driver/types.js";
import { DigestInvalidError } from "../errors/registry-errors.js";
import type { Layout } from "../layout.js";

/**
 * The global, content-addressed store under `blobs/`. Nothing reaches it unverified: bytes arrive
 * either by an atomic move of a verified upload or by an atomic putContent of verified content.
 * Repositories never read it directly, only through their links (LinkedBlobStore).
 */
export class BlobStore {
	constructor(
		private readonly driver: StorageDriver,
		private readonly layout: Layout,
		/**
		 * Called before new bytes are moved into place: garbage collection's claim (gc/fence.ts,
		 * step a). A move keeps the upload's modification time on some drivers, and bytes from an
		 * upload idle for longer than the grace period must not look old to a running collection.
		 */
		private readonly beforeMove?: (d: ParsedDigest, signal?: AbortSignal) => Promise<void>,
	) {}

	/** The blob's file info, or undefined when it is not stored. */
	async stat(d: ParsedDigest, signal?: AbortSignal): Promise<FileInfo | undefined> {
		try {
			const info = await this.driver.stat(this.layout.blobData(d), { signal });
			return info.isDir ? undefined : info;
		} catch (err) {
			if (err instanceof PathNotFoundError) return undefined;
			throw err;
		}
	}

	/** Store small content whose digest is checked here (manifests, monolithic small pushes). */
	async put(d: ParsedDigest, content: Uint8Array, signal?: AbortSignal): Promise<void> {
		const actual = createHash(d.algorithm).update(content).digest("hex");
		if (actual !== d.hex) {
			throw new DigestInvalidError(d.digest, "digest does not match content");
		}
		if (await this.stat(d, signal)) return;
		await this.driver.putContent(this.layout.blobData(d), content, { signal });
	}

	/**
	 * Move verified upload data to its content address. When the blob is already there the move is
	 * skipped: same digest, same bytes.
	 */
	async adopt(
		d: ParsedDigest,
		uploadData: string,
		size: number,
		signal?: AbortSignal,
	): Promise<void> {
		if (await this.stat(d, signal)) return;
		await this.beforeMove?.(d, signal);
		try {
			await this.driver.move(uploadData, this.layout.blobData(d), { signal });
		} catch (err) {
			// A zero-byte upload may have no data object on some backends.
			if (!(err instanceof PathNotFoundError) || size !== 0) throw err;
			await this.driver.putContent(this.layout.blobData(d), new Uint8Array(0), { signal });
		}
	}
}
