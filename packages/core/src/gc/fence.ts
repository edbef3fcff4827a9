import type { ParsedDigest } from "../digest.js";
import { PathNotFoundError } from "../driver/errors.js";
import type { StorageDriver } from "../driver/types.js";
import type { Layout } from "../layout.js";
import { mapLimit } from "../manifests/links.js";
import { GcPaths } from "./paths.js";

/**
 * The fence between garbage collection and writers, which lets a collection run while the
 * registry serves pushes. It assumes only what every supported backend gives: strongly consistent
 * reads, writes and listings of single objects; no rename, lock or conditional write. Its files
 * (paths.ts): a marker per collection, and per digest a claim and a tombstone.
 *
 * Collector (collect.ts, mark.ts, sweep.ts, reaper.ts):
 *  1. Writes its marker `gc/collections/<run>` and reads the marker's modification time back: the
 *     backend's clock, not the collector's, sets the cut-off `marker time - grace`.
 *  2. Marks, walking repositories after the marker exists. A link or revision modified at or
 *     after the cut-off counts as a reference whatever it points at (a push between its blobs and
 *     its manifest), and so does a blob whose `data` is that recent.
 *  3. For each digest it means to touch (a blob, or links and revisions naming it): writes the
 *     digest's tombstone with a deadline, then stats the digest's claim, its `data` and each link
 *     again; anything at or after the cut-off calls the whole digest off. Otherwise it deletes
 *     the links, then `data`, then the claim, and the tombstone last, and only before its
 *     deadline.
 *  4. Removes claims older than the cut-off and expired tombstones, then its marker.
 *
 * Writer (the engine: commit, mount, put of a blob or manifest):
 *  a. Before moving new bytes into `blobs/`, touches the claim: some drivers keep the upload's
 *     modification time on a move, and an upload idle for longer than the grace period must not
 *     look old once committed.
 *  b. After writing its reference (layer link, revision link), lists `gc/collections`. With no
 *     marker there is nothing more to do: any collection starts later, marks after this reference
 *     exists, and finds it recent.
 *  c. Otherwise, per digest: touches the claim, waits while a live tombstone is present, then
 *     checks that `data` and its reference still exist, rewriting the reference or restoring the
 *     bytes it still holds, and repeats until nothing had to be repaired. Only then does it
 *     answer the client; a blob it cannot restore fails the request instead of being reported
 *     stored.
 *
 * Why it holds: in (c) the writer writes the claim and then reads the tombstone; in (3) the
 * collector writes the tombstone and then reads the claim. One of the two reads sees the other's
 * write. Either the collector sees a recent claim and leaves the digest alone, or the writer sees
 * the tombstone and waits until the collector's deletions are over (the tombstone goes last),
 * then finds and repairs what was removed. A writer that saw no marker in (b) wrote its
 * reference before the marker existed, so the mark in (2) sees it. A crashed collector's
 * tombstone expires at its deadline, after which the collector deletes nothing more. What it
 * does assume: no writer stalls for longer than the grace period between its steps.
 */

/** How long a collector may hold a tombstone; a writer never waits longer than this. */
export const TOMBSTONE_LEASE_MS = 120_000;
/**
 * A collector starts deleting only while this much of its lease remains, so that writers on
 * another host with a clock this far ahead still see the lease as live until it is over.
 */
export const TOMBSTONE_MARGIN_MS = 60_000;

/** Repairs a writer makes before giving up on a reference (each is one collection racing it). */
const SETTLE_ATTEMPTS = 5;

export interface Tombstone {
	readonly run: string;
	/** Epoch ms after which the collector that wrote it deletes nothing. */
	readonly deadline: number;
}

export async function readTombstone(
	driver: StorageDriver,
	path: string,
	signal?: AbortSignal,
): Promise<Tombstone | undefined> {
	let raw: Buffer;
	try {
		raw = await driver.getContent(path, { signal });
	} catch (err) {
		if (err instanceof PathNotFoundError) return undefined;
		throw err;
	}
	try {
		const value = JSON.parse(raw.toString("utf8"));
		if (typeof value?.deadline === "number") {
			return { run: String(value.run ?? ""), deadline: value.deadline };
		}
	} catch {
		// Not written by a collector (they write whole JSON objects atomically): not a lease.
	}
	return { run: "", deadline: 0 };
}

export function encodeTombstone(t: Tombstone): Buffer {
	return Buffer.from(JSON.stringify(t));
}

/** Something a writer has just made reachable and must not lose to a concurrent collection. */
export interface FencedReference {
	/** The blob whose bytes must stay. */
	readonly digest: ParsedDigest;
	/** The link file that references it (a layer or revision link), rewritten if removed. */
	readonly link?: string;
	/** Put the bytes back if a collection removed them; false when the writer no longer can. */
	readonly restore?: () => Promise<boolean>;
}

export interface FenceOptions {
	/** Sleep between looks at a tombstone; injectable for tests. */
	sleep?: (ms: number) => Promise<void>;
}

/** The writer's side of the protocol above, shared by every engine write path. */
export class CollectionFence {
	private readonly paths: GcPaths;
	private readonly sleep: (ms: number) => Promise<void>;

	constructor(
		private readonly driver: StorageDriver,
		layout: Layout,
		options: FenceOptions = {},
	) {
		this.paths = new GcPaths(layout);
		this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
	}

	/** Whether any collection has its marker up. */
	async collecting(signal?: AbortSignal): Promise<boolean> {
		try {
			return (await this.driver.list(this.paths.collections, { signal })).length > 0;
		} catch (err) {
			if (err instanceof PathNotFoundError) return false;
			throw err;
		}
	}

	/** Step (a), and the touch of step (c): the blob was just made reachable. */
	async claim(d: ParsedDigest, signal?: AbortSignal): Promise<void> {
		await this.driver.putContent(this.paths.claim(d), Buffer.from(new Date().toISOString()), {
			signal,
		});
	}

	/**
	 * Steps (b) and (c) for references just written. Returns the digests whose bytes are gone and
	 * could not be restored; the caller fails its request for them.
	 */
	async settle(refs: readonly FencedReference[], signal?: AbortSignal): Promise<ParsedDigest[]> {
		if (refs.length === 0 || !(await this.collecting(signal))) return [];
		const lost: ParsedDigest[] = [];
		await mapLimit(refs, 8, async (ref) => {
			if (!(await this.hold(ref, signal))) lost.push(ref.digest);
		});
		return lost;
	}

	private async hold(ref: FencedReference, signal?: AbortSignal): Promise<boolean> {
		for (let attempt = 1; attempt <= SETTLE_ATTEMPTS; attempt++) {
			await this.claim(ref.digest, signal);
			await this.waitForTombstone(ref.digest, signal);
			const [data, linked] = await Promise.all([
				this.exists(this.paths.layout.blobData(ref.digest), signal),
				ref.link === undefined ? true : this.exists(ref.link, signal),
			]);
			if (data && linked) return true;
			if (!data && !(ref.restore && (await ref.restore()))) return false;
			if (!linked && ref.link !== undefined) {
				await this.driver.putContent(ref.link, Buffer.from(ref.digest.digest), { signal });
			}
			// Repaired: go round again, since the repair may itself have raced another collection.
		}
		throw new Error(
			`${ref.digest.digest} was collected ${SETTLE_ATTEMPTS} times while being referenced`,
		);
	}

	/** Wait while a collector holds the blob's tombstone and its lease lasts. */
	private async waitForTombstone(d: ParsedDigest, signal?: AbortSignal): Promise<void> {
		const path = this.paths.tombstone(d);
		let delay = 20;
		for (;;) {
			const tombstone = await readTombstone(this.driver, path, signal);
			if (!tombstone || tombstone.deadline <= Date.now()) return;
			signal?.throwIfAborted();
			await this.sleep(Math.min(delay, Math.max(1, tombstone.deadline - Date.now())));
			delay = Math.min(delay * 2, 1000);
		}
	}

	private async exists(path: string, signal?: AbortSignal): Promise<boolean> {
		try {
			return !(await this.driver.stat(path, { signal })).isDir;
		} catch (err) {
			if (err instanceof PathNotFoundError) return false;
			throw err;
		}
	}
}
