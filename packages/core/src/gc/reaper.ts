import type { ParsedDigest } from "../digest.js";
import { PathNotFoundError } from "../driver/errors.js";
import type { FileInfo, StorageDriver } from "../driver/types.js";
import { deleteIfExists } from "../manifests/links.js";
import { encodeTombstone, TOMBSTONE_LEASE_MS, TOMBSTONE_MARGIN_MS } from "./fence.js";
import type { CollectionMarker } from "./marker.js";
import type { GcPaths } from "./paths.js";

/** A reference to remove: `check` is the link whose age decides, `remove` what goes, in order. */
export interface Removal {
	readonly check: string;
	readonly remove: readonly string[];
}

export interface ReapPlan {
	/** Delete the blob's bytes (it is unmarked and was old when the sweep found it). */
	readonly blob: boolean;
	/** References to the digest to remove, whether or not the blob goes. */
	readonly removals: readonly Removal[];
}

export type ReapOutcome =
	| { readonly done: true; readonly bytesFreed: number; readonly blobDeleted: boolean }
	| {
			readonly done: false;
			readonly reason: string;
			/** The recent write predates the collection: young, not raced. */
			readonly young: boolean;
	  };

/**
 * Step 3 of the protocol in fence.ts: every removal the collector makes for one digest happens
 * under that digest's tombstone, after a last look at everything a writer could have refreshed.
 */
export class Reaper {
	constructor(
		private readonly driver: StorageDriver,
		private readonly paths: GcPaths,
		private readonly marker: CollectionMarker,
		/** Epoch ms: anything modified at or after it is kept. */
		private readonly cutoff: number,
		private readonly signal?: AbortSignal,
	) {}

	async reap(d: ParsedDigest, plan: ReapPlan): Promise<ReapOutcome> {
		const { driver, signal } = this;
		const tombstone = this.paths.tombstone(d);
		const deadline = Date.now() + TOMBSTONE_LEASE_MS;
		await driver.putContent(tombstone, encodeTombstone({ run: this.marker.runId, deadline }), {
			signal,
		});
		try {
			const data = this.paths.layout.blobData(d);
			const [claim, bytes, ...links] = await Promise.all([
				this.stat(this.paths.claim(d)),
				this.stat(data),
				...plan.removals.map((r) => this.stat(r.check)),
			]);
			const recent = [claim, ...links, ...(plan.blob ? [bytes] : [])].filter((i) => this.young(i));
			if (recent.length > 0) {
				const during = recent.some((i) => (i as FileInfo).modTime >= this.marker.startedAt);
				return {
					done: false,
					reason: during
						? "referenced during the collection"
						: "referenced within the grace period",
					young: !during,
				};
			}
			if (!this.marker.alive()) {
				throw new Error("the collection could not keep its marker up: stopping before deleting");
			}
			if (Date.now() > deadline - TOMBSTONE_MARGIN_MS) {
				return {
					done: false,
					reason: "too slow to delete within the tombstone's lease",
					young: false,
				};
			}
			for (const removal of plan.removals) {
				for (const path of removal.remove) await deleteIfExists(driver, path, signal);
			}
			let bytesFreed = 0;
			const deleteBlob = plan.blob && bytes !== undefined;
			if (deleteBlob && (await deleteIfExists(driver, data, signal))) bytesFreed = bytes.size;
			if (plan.blob && claim) await deleteIfExists(driver, this.paths.claim(d), signal);
			return { done: true, bytesFreed, blobDeleted: deleteBlob };
		} finally {
			// Last, so that a writer who sees no tombstone knows the deletions are over. Should this
			// fail, writers wait until the deadline, after which nothing is deleted any more.
			await deleteIfExists(driver, tombstone);
		}
	}

	private young(info: FileInfo | undefined): boolean {
		return info !== undefined && info.modTime.getTime() >= this.cutoff;
	}

	private async stat(path: string): Promise<FileInfo | undefined> {
		try {
			const info = await this.driver.stat(path, { signal: this.signal });
			return info.isDir ? undefined : info;
		} catch (err) {
			if (err instanceof PathNotFoundError) return undefined;
			throw err;
		}
	}
}
