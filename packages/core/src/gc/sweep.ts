import type { ParsedDigest } from "../digest.js";
import { PathNotFoundError } from "../driver/errors.js";
import type { FileInfo, StorageDriver } from "../driver/types.js";
import type { Layout } from "../layout.js";
import { listNames } from "../manifests/links.js";
import { toDigest } from "./mark.js";
import { TaskPool } from "./pool.js";
import type { Reaper, ReapPlan, Removal } from "./reaper.js";
import type { GcCounts, GcEvent } from "./types.js";

/** Repositories holding an old, unreferenced link to a digest. */
export type DanglingLinks = Map<string, { digest: ParsedDigest; repositories: string[] }>;

export interface SweepContext {
	readonly driver: StorageDriver;
	readonly layout: Layout;
	readonly cutoff: number;
	readonly concurrency: number;
	readonly signal?: AbortSignal;
	readonly marked: ReadonlySet<string>;
	/** Consumed: what is left after the walk names blobs that no longer exist. */
	readonly dangling: DanglingLinks;
	/** Undefined in a dry run. */
	readonly reaper: Reaper | undefined;
	readonly counts: GcCounts;
	readonly event: (e: GcEvent) => void;
	readonly progress: (fraction?: number) => void;
}

interface BlobDir {
	readonly algorithm: string;
	readonly hex: string;
	data?: FileInfo;
}

/**
 * Walk `blobs/` once, in order, deciding each blob directory as soon as the walk has passed it:
 * nothing but the mark set and the dangling links is held in memory. Removals run a few at a
 * time behind the walk.
 */
export async function sweepBlobs(ctx: SweepContext): Promise<void> {
	const { driver, layout, signal } = ctx;
	const root = layout.blobsRoot;
	const algorithms = (await listNames(driver, root, signal)) ?? [];
	const pool = new TaskPool(ctx.concurrency);
	let current: BlobDir | undefined;
	const flush = async () => {
		const dir = current;
		current = undefined;
		if (dir) await pool.add(() => sweepBlob(ctx, dir));
	};
	try {
		await driver.walk(
			root,
			async (info) => {
				const parts = info.path.slice(root.length + 1).split("/");
				if (parts.length === 3 && info.isDir) {
					await flush();
					current = { algorithm: parts[0] as string, hex: parts[2] as string };
					const at = algorithms.indexOf(current.algorithm);
					const prefix = Number.parseInt(parts[1] as string, 16);
					if (at >= 0 && Number.isFinite(prefix)) {
						ctx.progress((at + prefix / 256) / algorithms.length);
					}
					return undefined;
				}
				if (parts.length === 4 && current && parts[2] === current.hex && !info.isDir) {
					if (parts[3] === "data") current.data = info;
				}
				// Nothing of ours lies deeper than a blob directory's files.
				return parts.length >= 4 && info.isDir ? "skip" : undefined;
			},
			{ signal },
		);
	} catch (err) {
		if (!(err instanceof PathNotFoundError)) throw err;
	}
	await flush();
	// Links to blobs the walk never met: their bytes are already gone.
	for (const { digest, repositories } of ctx.dangling.values()) {
		await pool.add(() => reap(ctx, digest, { blob: false, removals: [] }, repositories));
	}
	ctx.dangling.clear();
	await pool.drain();
}

async function sweepBlob(ctx: SweepContext, dir: BlobDir): Promise<void> {
	ctx.counts.blobs += 1;
	const d = toDigest(dir.algorithm, dir.hex);
	if (!d) return;
	const repositories = ctx.dangling.get(d.digest)?.repositories ?? [];
	ctx.dangling.delete(d.digest);
	const young = (info: FileInfo | undefined) =>
		info !== undefined && info.modTime.getTime() >= ctx.cutoff;
	let blob = false;
	if (dir.data && !ctx.marked.has(d.digest)) {
		if (young(dir.data)) ctx.counts.blobsYoung += 1;
		else blob = true;
	}
	if (blob || repositories.length > 0) {
		await reap(ctx, d, { blob, removals: [] }, repositories, dir.data);
	}
	ctx.progress();
}

async function reap(
	ctx: SweepContext,
	d: ParsedDigest,
	plan: ReapPlan,
	repositories: string[],
	data?: FileInfo,
): Promise<void> {
	const removals: Removal[] = repositories.map((repository) => {
		const link = ctx.layout.layerLink(repository, d);
		return { check: link, remove: [link.slice(0, -"/link".length)] };
	});
	const { counts, event } = ctx;
	if (!ctx.reaper) {
		if (plan.blob && data) {
			counts.blobsDeleted += 1;
			counts.bytesFreed += data.size;
			event({ type: "blob", digest: d.digest, size: data.size, dryRun: true });
		}
		for (const repository of repositories) {
			counts.linksRemoved += 1;
			event({ type: "link", repository, digest: d.digest, dryRun: true });
		}
		return;
	}
	const outcome = await ctx.reaper.reap(d, { blob: plan.blob, removals });
	if (!outcome.done && outcome.young) {
		if (plan.blob) counts.blobsYoung += 1;
		return;
	}
	if (!outcome.done) {
		counts.calledOff += 1;
		event({ type: "called-off", digest: d.digest, reason: outcome.reason });
		return;
	}
	for (const repository of repositories) {
		counts.linksRemoved += 1;
		event({ type: "link", repository, digest: d.digest, dryRun: false });
	}
	if (outcome.blobDeleted) {
		counts.blobsDeleted += 1;
		counts.bytesFreed += outcome.bytesFreed;
		event({ type: "blob", digest: d.digest, size: outcome.bytesFreed, dryRun: false });
	}
}
