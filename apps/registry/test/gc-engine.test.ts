/** Garbage collection in the engine, on the memory and filesystem drivers. */
import {
	BlobUnknownError,
	CollectionInProgressError,
	type GcEvent,
	type GcProgress,
	ManifestUnknownError,
	Registry,
} from "@stowage/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
	blobPath,
	digestOf,
	exists,
	pushBlob,
	pushImage,
	pushIndex,
	ROOT,
	STORES,
	type TestStore,
} from "./gc-fixtures.js";

describe.each(STORES)("garbage collection on $name", ({ create }) => {
	let store: TestStore;
	let registry: Registry;
	beforeEach(async () => {
		store = await create();
		registry = new Registry({ driver: store.driver });
	});
	afterEach(() => store.dispose());

	const blobExists = (digest: string) => exists(store.driver, blobPath(digest));
	/**
	 * With no grace period, "old" means modified before the collection's marker; a write in the
	 * same millisecond counts as young. Let the clock move on first.
	 */
	const collect = async (options: Parameters<Registry["garbageCollect"]>[0]) => {
		await new Promise((r) => setTimeout(r, 5));
		return registry.garbageCollect(options);
	};

	it("keeps what manifests reference and deletes old unreferenced blobs", async () => {
		const repo = registry.repository("lib/app");
		const image = await pushImage(repo, ["layer a", "layer b"], { tag: "v1" });
		const orphan = await pushBlob(repo, "orphan bytes");
		const other = await pushBlob(registry.repository("other"), "never in a manifest");

		const result = await collect({ gracePeriod: 0 });

		expect(result).toMatchObject({
			dryRun: false,
			repositories: 2,
			manifests: 1,
			blobsDeleted: 2,
			bytesFreed: orphan.size + other.size,
			linksRemoved: 2,
		});
		for (const d of [image.digest, image.config, ...image.layers]) {
			expect(await blobExists(d)).toBe(true);
		}
		expect(await blobExists(orphan.digest)).toBe(false);
		expect(await blobExists(other.digest)).toBe(false);
		// The repository's view agrees: the blob is unknown, never "exists" with missing bytes.
		await expect(repo.blobs.stat(orphan.digest)).rejects.toBeInstanceOf(BlobUnknownError);
		expect((await repo.manifests.get("v1")).descriptor.digest).toBe(image.digest);
		// Nothing of the protocol is left behind: no marker, claim or tombstone, and each blob
		// directory holds its data alone.
		expect(await exists(store.driver, `${ROOT}/gc`)).toBe(false);
		const blobDir = blobPath(image.digest).slice(0, -"/data".length);
		expect(await store.driver.list(blobDir)).toEqual([blobPath(image.digest)]);
	});

	it("a dry run reports the same and changes nothing", async () => {
		const repo = registry.repository("lib/app");
		await pushImage(repo, ["kept"], { tag: "v1" });
		const orphan = await pushBlob(repo, "orphan");
		const events: GcEvent[] = [];
		const dry = await collect({
			gracePeriod: 0,
			dryRun: true,
			onEvent: (e) => events.push(e),
		});
		expect(dry).toMatchObject({ dryRun: true, blobsDeleted: 1, bytesFreed: orphan.size });
		expect(dry.runId).toBeUndefined();
		expect(events).toContainEqual({
			type: "blob",
			digest: orphan.digest,
			size: orphan.size,
			dryRun: true,
		});
		expect(await blobExists(orphan.digest)).toBe(true);
		expect((await repo.blobs.stat(orphan.digest)).size).toBe(orphan.size);

		const real = await collect({ gracePeriod: 0 });
		expect(real).toMatchObject({ blobsDeleted: dry.blobsDeleted, bytesFreed: dry.bytesFreed });
	});

	it("keeps unreferenced blobs younger than the grace period", async () => {
		const repo = registry.repository("lib/app");
		const young = await pushBlob(repo, "pushed a moment ago, manifest still to come");
		const result = await registry.garbageCollect({ gracePeriod: 60 * 60_000 });
		expect(result).toMatchObject({ blobsDeleted: 0, linksRemoved: 0 });
		expect(await blobExists(young.digest)).toBe(true);
		expect((await repo.blobs.stat(young.digest)).size).toBe(young.size);
	});

	it("removes a repository's links to blobs only other repositories' manifests use", async () => {
		const a = registry.repository("a");
		const b = registry.repository("b");
		const image = await pushImage(a, ["shared layer"], { tag: "v1" });
		expect(await b.blobs.mount(image.layers[0] as string, "a")).toBeDefined();

		const result = await collect({ gracePeriod: 0 });

		expect(result).toMatchObject({ blobsDeleted: 0, linksRemoved: 1 });
		expect(await blobExists(image.layers[0] as string)).toBe(true);
		await expect(b.blobs.stat(image.layers[0] as string)).rejects.toBeInstanceOf(BlobUnknownError);
		expect((await a.blobs.stat(image.layers[0] as string)).size).toBeGreaterThan(0);
	});

	it("follows indexes to their children and referrers to their subjects", async () => {
		const repo = registry.repository("multi");
		const amd = await pushImage(repo, ["amd64 layer"]);
		const arm = await pushImage(repo, ["arm64 layer"]);
		const index = await pushIndex(repo, [amd, arm], "latest");
		const signature = await pushImage(repo, ["signature"], {
			subject: { digest: index.digest, size: index.size },
			artifactType: "application/vnd.example.signature",
		});

		const result = await collect({ gracePeriod: 0 });

		expect(result).toMatchObject({ blobsDeleted: 0, linksRemoved: 0, manifests: 4 });
		for (const image of [amd, arm, signature]) {
			for (const d of [image.digest, image.config, ...image.layers]) {
				expect(await blobExists(d)).toBe(true);
			}
		}
	});

	it("--delete-untagged removes manifests no tag reaches, and then their blobs", async () => {
		const repo = registry.repository("app");
		const old = await pushImage(repo, ["old layer", "common layer"], { tag: "v1" });
		const current = await pushImage(repo, ["new layer", "common layer"], { tag: "v1" });
		// A signature of the old image: untagged, its subject untagged too.
		const oldSignature = await pushImage(repo, ["old signature"], {
			subject: { digest: old.digest, size: old.size },
			artifactType: "application/vnd.example.signature",
		});
		// A signature of the tagged image stays with it.
		const signature = await pushImage(repo, ["current signature"], {
			subject: { digest: current.digest, size: current.size },
			artifactType: "application/vnd.example.signature",
		});
		const amd = await pushImage(repo, ["amd64"]);
		const index = await pushIndex(repo, [amd], "multi");

		const result = await collect({ gracePeriod: 0, deleteUntagged: true });

		expect(result.manifestsDeleted).toBe(2);
		await expect(repo.manifests.get(old.digest)).rejects.toBeInstanceOf(ManifestUnknownError);
		await expect(repo.manifests.get(oldSignature.digest)).rejects.toBeInstanceOf(
			ManifestUnknownError,
		);
		for (const gone of [old.digest, old.config, oldSignature.digest, digestOf("old layer")]) {
			expect(await blobExists(gone)).toBe(false);
		}
		for (const kept of [
			current.digest,
			digestOf("common layer"),
			signature.digest,
			...signature.layers,
			amd.digest,
			index.digest,
		]) {
			expect(await blobExists(kept)).toBe(true);
		}
		const referrers = await repo.manifests.referrers(current.digest);
		expect(referrers.manifests.map((m) => m.digest)).toEqual([signature.digest]);
		expect((await repo.manifests.referrers(old.digest)).manifests).toEqual([]);
		expect((await repo.tags.list()).tags).toEqual(["multi", "v1"]);
	});

	it("without --delete-untagged every manifest is a root", async () => {
		const repo = registry.repository("app");
		const old = await pushImage(repo, ["old layer"], { tag: "v1" });
		await pushImage(repo, ["new layer"], { tag: "v1" });
		const result = await collect({ gracePeriod: 0 });
		expect(result).toMatchObject({ manifestsDeleted: 0, blobsDeleted: 0 });
		expect((await repo.manifests.get(old.digest)).content.equals(old.bytes)).toBe(true);
	});

	it("reports progress through every phase, ending at fraction 1", async () => {
		const repo = registry.repository("p");
		await pushImage(repo, ["x"], { tag: "v1" });
		await pushBlob(repo, "garbage");
		const seen: GcProgress[] = [];
		const result = await collect({
			gracePeriod: 0,
			onProgress: (p) => seen.push(p),
		});
		expect(new Set(seen.map((p) => p.phase))).toEqual(
			new Set(["mark", "untagged", "sweep", "done"]),
		);
		expect(seen.at(-1)).toMatchObject({ phase: "done", fraction: 1, blobsDeleted: 1 });
		expect(seen.at(-1)?.bytesFreed).toBe(result.bytesFreed);
		for (const phase of ["mark", "sweep"]) {
			const fractions = seen.flatMap((p) =>
				p.phase === phase && p.fraction !== undefined ? [p.fraction] : [],
			);
			expect(fractions.length, phase).toBeGreaterThan(0);
			expect(fractions).toEqual([...fractions].sort((x, y) => x - y));
		}
	});

	it("refuses to run beside another live collection", async () => {
		const marker = `${ROOT}/gc/collections/other-run`;
		await store.driver.putContent(marker, Buffer.from("{}"));
		await expect(collect({ gracePeriod: 0 })).rejects.toBeInstanceOf(CollectionInProgressError);
		// The refused run took its own marker down again.
		expect(await store.driver.list(`${ROOT}/gc/collections`)).toEqual([marker]);
	});

	it("a manifest whose bytes cannot be parsed keeps its repository's links", async () => {
		const repo = registry.repository("legacy");
		const layer = await pushBlob(repo, "schema 1 layer");
		const schema1 = Buffer.from(
			JSON.stringify({ schemaVersion: 1, name: "legacy", fsLayers: [{ blobSum: layer.digest }] }),
		);
		// As a Distribution store would hold it: bytes and revision, written by hand.
		const d = digestOf(schema1);
		await store.driver.putContent(blobPath(d), schema1);
		const hex = d.slice("sha256:".length);
		await store.driver.putContent(
			`${ROOT}/repositories/legacy/_manifests/revisions/sha256/${hex}/link`,
			Buffer.from(d),
		);
		const result = await collect({ gracePeriod: 0 });
		expect(result.warnings).toHaveLength(1);
		expect(result.blobsDeleted).toBe(0);
		expect(await blobExists(layer.digest)).toBe(true);
	});
});
