import { PathNotFoundError } from "../driver/errors.js";
import type { StorageDriver } from "../driver/types.js";
import type { Layout } from "../layout.js";
import { walkRepositories } from "../manifests/catalog.js";
import { deleteIfExists, listNames } from "../manifests/links.js";
import { referrersDir } from "../manifests/referrers.js";
import { type MarkContext, markRepository, type UntaggedManifest } from "./mark.js";
import { type CollectionMarker, raiseMarker } from "./marker.js";
import { GcPaths } from "./paths.js";
import { Reaper, type Removal } from "./reaper.js";
import { type DanglingLinks, sweepBlobs } from "./sweep.js";
import { tidyProtocolFiles } from "./tidy.js";
import {
	DEFAULT_GRACE_PERIOD,
	type GcCounts,
	type GcEvent,
	type GcOptions,
	type GcPhase,
	type GcResult,
} from "./types.js";

/**
 * Mark and sweep while the registry keeps serving (the protocol is in fence.ts):
 *
 *  1. mark: every repository's live manifests and what they reference, plus anything younger
 *     than the cut-off; old layer links nothing references, and with deleteUntagged old
 *     manifests no tag reaches, are noted for removal;
 *  2. untagged: those manifests leave their repositories;
 *  3. sweep: one ordered walk of `blobs/` deletes unmarked old blobs and removes the noted links;
 *     then claims and tombstones that protect nothing any more go.
 *
 * A failure while marking stops the collection before anything is deleted: an incomplete mark
 * set would sweep live blobs.
 */
export async function garbageCollect(
	driver: StorageDriver,
	layout: Layout,
	options: GcOptions = {},
): Promise<GcResult> {
	const started = performance.now();
	const { signal } = options;
	const dryRun = options.dryRun ?? false;
	const concurrency = Math.max(1, options.concurrency ?? 8);
	const paths = new GcPaths(layout);
	const counts: GcCounts = {
		repositories: 0,
		manifests: 0,
		marked: 0,
		blobs: 0,
		blobsDeleted: 0,
		bytesFreed: 0,
		linksRemoved: 0,
		manifestsDeleted: 0,
		blobsYoung: 0,
		calledOff: 0,
		directoriesRemoved: 0,
	};
	const warnings: string[] = [];
	let phase: GcPhase = "mark";
	const progress = (fraction?: number) =>
		options.onProgress?.({ ...counts, phase, ...(fraction !== undefined ? { fraction } : {}) });
	const event = (e: GcEvent) => options.onEvent?.(e);

	// A dry run writes nothing, not even its marker, so its clock is ours.
	const marker: CollectionMarker | undefined = dryRun
		? undefined
		: await raiseMarker(driver, paths, {
				...(signal ? { signal } : {}),
				...(options.heartbeatMs ? { heartbeatMs: options.heartbeatMs } : {}),
			});
	try {
		const cutoff =
			(marker?.startedAt ?? new Date()).getTime() - (options.gracePeriod ?? DEFAULT_GRACE_PERIOD);
		const marked = new Set<string>();
		const dangling: DanglingLinks = new Map();
		const untagged: { repository: string; manifest: UntaggedManifest }[] = [];
		const ctx: MarkContext = {
			driver,
			layout,
			cutoff,
			deleteUntagged: options.deleteUntagged ?? false,
			concurrency,
			...(signal ? { signal } : {}),
			marked,
			onManifest: () => {
				counts.manifests += 1;
			},
			warn: (message) => {
				warnings.push(message);
				event({ type: "warning", message });
			},
		};

		// Repositories come in order: where the current one's first component stands among the
		// top-level names tells how far the mark is.
		const top = (await listNames(driver, layout.repositoriesRoot, signal)) ?? [];
		for await (const name of walkRepositories(driver, layout, signal ? { signal } : {})) {
			const result = await markRepository(ctx, name);
			for (const digest of result.danglingLinks) {
				const entry = dangling.get(digest.digest) ?? { digest, repositories: [] };
				entry.repositories.push(name);
				dangling.set(digest.digest, entry);
			}
			for (const manifest of result.untagged) untagged.push({ repository: name, manifest });
			if (!dryRun) counts.directoriesRemoved += await removeEmptyDirectories(ctx, name, event);
			counts.repositories += 1;
			counts.marked = marked.size;
			const at = top.indexOf(name.split("/")[0] as string);
			progress(at >= 0 ? at / top.length : undefined);
		}

		const reaper = marker && new Reaper(driver, paths, marker, cutoff, signal);
		phase = "untagged";
		progress();
		for (const { repository, manifest } of untagged) {
			const { digest } = manifest;
			if (!reaper) {
				counts.manifestsDeleted += 1;
				event({ type: "manifest", repository, digest: digest.digest, dryRun: true });
				continue;
			}
			const outcome = await reaper.reap(digest, {
				blob: false,
				removals: [untaggedRemoval(layout, repository, manifest)],
			});
			if (outcome.done) {
				counts.manifestsDeleted += 1;
				event({ type: "manifest", repository, digest: digest.digest, dryRun: false });
			} else {
				// Tagged again meanwhile: what it references is live after all.
				for (const ref of manifest.references) marked.add(ref);
				counts.calledOff += 1;
				event({ type: "called-off", digest: digest.digest, reason: outcome.reason });
			}
			progress();
		}
		counts.marked = marked.size;

		phase = "sweep";
		progress(0);
		await sweepBlobs({
			driver,
			layout,
			cutoff,
			concurrency,
			...(signal ? { signal } : {}),
			marked,
			dangling,
			reaper,
			counts,
			event,
			progress,
		});
		if (!dryRun) await tidyProtocolFiles(driver, paths, cutoff, concurrency, signal);
		phase = "done";
		progress(1);
		return {
			...counts,
			runId: marker?.runId,
			dryRun,
			cutoff: new Date(cutoff),
			durationMs: performance.now() - started,
			warnings,
		};
	} finally {
		await marker?.remove();
	}
}

/** Everything naming an untagged manifest in its repository; the revision itself goes last. */
function untaggedRemoval(layout: Layout, repository: string, m: UntaggedManifest): Removal {
	const { digest } = m;
	const revision = layout.manifestRevisionLink(repository, digest);
	const remove = m.history.map(
		(tag) => `${layout.tag(repository, tag)}/index/${digest.algorithm}/${digest.hex}`,
	);
	if (m.subject) {
		remove.push(`${referrersDir(layout, repository, m.subject)}/${digest.algorithm}/${digest.hex}`);
	}
	remove.push(revision.slice(0, -"/link".length));
	return { check: revision, remove };
}

/**
 * Remove a repository's bookkeeping directories that hold nothing and were last changed before
 * the cut-off: Distribution leaves them behind (an `_uploads` after its last upload), while the
 * filesystem and memory drivers prune empty directories themselves.
 */
async function removeEmptyDirectories(
	ctx: MarkContext,
	name: string,
	event: (e: GcEvent) => void,
): Promise<number> {
	const { driver, layout, signal } = ctx;
	const manifests = layout.manifestsRoot(name);
	const dirs = [
		layout.uploadsRoot(name),
		layout.layersRoot(name),
		`${manifests}/revisions`,
		`${manifests}/tags`,
		`${manifests}/referrers`,
	];
	let removed = 0;
	for (const dir of dirs) {
		try {
			if ((await driver.list(dir, { signal })).length > 0) continue;
			const info = await driver.stat(dir, { signal });
			if (!info.isDir || info.modTime.getTime() >= ctx.cutoff) continue;
		} catch (err) {
			if (err instanceof PathNotFoundError) continue;
			throw err;
		}
		if (await deleteIfExists(driver, dir, signal)) {
			removed += 1;
			event({ type: "directory", path: dir });
		}
	}
	return removed;
}
