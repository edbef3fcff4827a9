/**
 * Pushes running while collections run, over any driver: the scenario behind "collections lose
 * nothing reachable and free what is garbage" for each store the suite has.
 */
import {
	CollectionInProgressError,
	type GcResult,
	Registry,
	type StorageDriver,
} from "@stowage/core";
import {
	blobPath,
	digestOf,
	exists,
	HookedDriver,
	type Image,
	pushBlob,
	pushImage,
} from "./gc-fixtures.js";

export interface ScenarioOptions {
	/** How long pushes and collections run, in ms. */
	duration: number;
	/** Grace period of every collection, in ms: garbage is made this long before the run. */
	grace: number;
	pushers: number;
	garbage: number;
	deleteUntagged?: boolean;
	/** Slow the collector's deletions by this many ms each, widening every race window. */
	collectorDelay?: number;
}

export interface ScenarioOutcome {
	collections: GcResult[];
	pushed: { repository: string; tag: string; image: Image }[];
	failures: unknown[];
	/** Problems found at the end; empty when nothing reachable was lost and garbage went. */
	problems: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function pushWhileCollecting(
	driver: StorageDriver,
	options: ScenarioOptions,
): Promise<ScenarioOutcome> {
	// Two registries over one store: a serving process and the collector's, as in production.
	const serving = new Registry({ driver });
	// The collector announces each tombstone it writes, and pushers go for exactly those blobs:
	// the adversarial schedule, since a random one rarely lands inside a deletion.
	const hot: string[] = [];
	const slow = new HookedDriver(driver);
	slow.before = async (op, path) => {
		if (op === "putContent" && path.includes("/gc/tombstones/")) {
			hot.push(`sha256:${path.split("/").at(-1)}`);
		}
		if (op === "delete" && options.collectorDelay) await sleep(options.collectorDelay);
	};
	const collector = new Registry({ driver: slow });

	// Garbage older than the grace period: blobs no manifest references, and an image whose tag
	// was deleted (untagged, so only --delete-untagged frees it).
	const seed = serving.repository("seed");
	const garbage: string[] = [];
	for (let i = 0; i < options.garbage; i++) {
		garbage.push((await pushBlob(seed, `garbage ${i}`)).digest);
	}
	const untagged = await pushImage(seed, ["untagged layer"], { tag: "old" });
	await seed.manifests.delete("old");
	await sleep(options.grace + 50);

	const pushed: ScenarioOutcome["pushed"] = [];
	const failures: unknown[] = [];
	const revived = new Set<string>();
	let stop = false;

	const pusher = async (n: number) => {
		const repository = `team/p${n}`;
		const repo = serving.repository(repository);
		for (let i = 0; !stop; i++) {
			try {
				const layers = [`base layer`, `p${n} layer ${i}`];
				// Now and then bytes equal to garbage come back: the collection may be deleting them.
				let revive: string | undefined;
				if (i % 2 === 0) {
					// The newest tombstone: the one whose deletion is most likely still going on.
					const target = hot.pop();
					const at = target ? garbage.indexOf(target) : -1;
					const g = at >= 0 ? at : (n * 7 + i) % options.garbage;
					revive = `garbage ${g}`;
					layers.unshift(revive);
					revived.add(garbage[g] as string);
				}
				// Layers first (the revived one before anything else), as clients do: a mount from
				// where the bytes are linked when the registry has them, else an upload.
				const layer = async (content: string) => {
					const digest = digestOf(content);
					if (content === revive && (await repo.blobs.mount(digest, "seed"))) {
						return { digest, size: Buffer.byteLength(content) };
					}
					return pushBlob(repo, content);
				};
				const tag = `v${i}`;
				const image = await pushImage(repo, layers, { tag, layer });
				pushed.push({ repository, tag, image });
			} catch (err) {
				failures.push(err);
			}
			await sleep(5);
		}
	};

	const collections: GcResult[] = [];
	const collecting = (async () => {
		while (!stop) {
			try {
				collections.push(
					await collector.garbageCollect({
						gracePeriod: options.grace,
						deleteUntagged: options.deleteUntagged ?? false,
					}),
				);
			} catch (err) {
				if (!(err instanceof CollectionInProgressError)) failures.push(err);
			}
		}
	})();
	const pushing = Array.from({ length: options.pushers }, (_, n) => pusher(n));
	await sleep(options.duration);
	stop = true;
	await Promise.all([...pushing, collecting]);
	// One more collection with nothing running: everything old is judged once more.
	collections.push(
		await collector.garbageCollect({
			gracePeriod: options.grace,
			deleteUntagged: options.deleteUntagged ?? false,
		}),
	);

	const problems: string[] = [];
	for (const { repository, tag, image } of pushed) {
		const repo = serving.repository(repository);
		try {
			const got = await repo.manifests.get(tag);
			if (got.descriptor.digest !== image.digest) problems.push(`${repository}:${tag} moved`);
		} catch (err) {
			problems.push(`${repository}:${tag} lost: ${(err as Error).message}`);
		}
		for (const d of [image.digest, image.config, ...image.layers]) {
			if (!(await exists(driver, blobPath(d)))) problems.push(`${repository}:${tag} lost ${d}`);
			if (d !== image.digest) {
				await repo.blobs.stat(d).catch(() => problems.push(`${repository} lost its link to ${d}`));
			}
		}
	}
	for (const d of garbage) {
		if (!revived.has(d) && (await exists(driver, blobPath(d)))) {
			problems.push(`garbage ${d} survived`);
		}
	}
	if (options.deleteUntagged) {
		for (const d of [untagged.digest, digestOf("untagged layer")]) {
			if (await exists(driver, blobPath(d))) problems.push(`untagged ${d} survived`);
		}
	}
	return { collections, pushed, failures, problems };
}
