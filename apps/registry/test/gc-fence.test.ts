/**
 * The collection fence (core's gc/fence.ts) step by step: a writer runs at an exact point of a
 * collection's deletion of the same blob, and either the collection calls the deletion off or the
 * writer repairs what was removed, or fails; never a success over missing bytes.
 */
import { utimes } from "node:fs/promises";
import { join } from "node:path";
import {
	BlobUnknownError,
	ManifestBlobUnknownError,
	ManifestUnknownError,
	Registry,
	type StorageDriver,
} from "@stowage/core";
import { createFsDriver } from "@stowage/driver-fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
	blobPath,
	body,
	digestOf,
	exists,
	HookedDriver,
	OCI_MANIFEST,
	pushBlob,
	ROOT,
	STORES,
	type TestStore,
} from "./gc-fixtures.js";

const tombstone = (digest: string) => {
	const hex = digest.slice("sha256:".length);
	return `${ROOT}/gc/tombstones/sha256/${hex.slice(0, 2)}/${hex}`;
};
const layerLinkDir = (repo: string, digest: string) =>
	`${ROOT}/repositories/${repo}/_layers/sha256/${digest.slice("sha256:".length)}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves the first time `match` accepts a call. */
function when(driver: HookedDriver, match: (op: string, path: string) => boolean) {
	return new Promise<void>((resolve) => {
		const previous = driver.before;
		driver.before = async (op, path) => {
			if (match(op, path)) resolve();
			await previous(op, path);
		};
	});
}

describe.each(STORES)("the collection fence on $name", ({ create }) => {
	let store: TestStore;
	/** What the collector sees. */
	let collector: HookedDriver;
	/** What writers see. */
	let writer: HookedDriver;
	let gc: Registry;
	let registry: Registry;

	beforeEach(async () => {
		store = await create();
		collector = new HookedDriver(store.driver);
		writer = new HookedDriver(store.driver);
		gc = new Registry({ driver: collector });
		registry = new Registry({ driver: writer });
	});
	afterEach(() => store.dispose());

	/** An old blob no manifest references, linked in `a`: the collection will delete it. */
	async function orphan(content = "orphaned bytes") {
		const blob = await pushBlob(registry.repository("a"), content);
		await sleep(5);
		return blob;
	}

	it("a mount just before the collector looks calls the deletion off", async () => {
		const x = await orphan();
		let mounted: unknown;
		collector.before = async (op, path) => {
			if (op === "putContent" && path === tombstone(x.digest) && mounted === undefined) {
				mounted = await registry.repository("b").blobs.mount(x.digest, "a");
			}
		};
		const result = await gc.garbageCollect({ gracePeriod: 0 });
		expect(mounted).toMatchObject({ digest: x.digest, size: x.size });
		expect(result).toMatchObject({ blobsDeleted: 0, calledOff: 1 });
		expect((await registry.repository("b").blobs.stat(x.digest)).size).toBe(x.size);
	});

	it("a mount while the collector deletes waits, then falls back to an upload", async () => {
		const x = await orphan();
		let mount: Promise<unknown> | undefined;
		collector.before = async (op, path) => {
			if (op === "delete" && path === layerLinkDir("a", x.digest) && !mount) {
				const waiting = when(writer, (o, p) => o === "getContent" && p === tombstone(x.digest));
				mount = registry.repository("b").blobs.mount(x.digest, "a");
				await waiting;
			}
		};
		const result = await gc.garbageCollect({ gracePeriod: 0 });
		expect(result.blobsDeleted).toBe(1);
		expect(await mount).toBeUndefined();
		await expect(registry.repository("b").blobs.stat(x.digest)).rejects.toBeInstanceOf(
			BlobUnknownError,
		);
		expect(await exists(store.driver, layerLinkDir("b", x.digest))).toBe(false);
	});

	it("a commit of the same bytes while the collector deletes puts them back", async () => {
		const x = await orphan("bytes pushed twice");
		let commit: Promise<unknown> | undefined;
		collector.before = async (op, path) => {
			if (op === "delete" && path === blobPath(x.digest) && !commit) {
				const waiting = when(writer, (o, p) => o === "getContent" && p === tombstone(x.digest));
				commit = pushBlob(registry.repository("c"), "bytes pushed twice");
				await waiting;
			}
		};
		const result = await gc.garbageCollect({ gracePeriod: 0 });
		expect(result.blobsDeleted).toBe(1);
		expect(await commit).toEqual(x);
		const { stream } = await registry.repository("c").blobs.open(x.digest);
		let text = "";
		for await (const chunk of stream) text += chunk;
		expect(text).toBe("bytes pushed twice");
	});

	it("a manifest naming a blob the collector is deleting is refused, not stored broken", async () => {
		const repo = registry.repository("a");
		const config = await orphan("{}");
		const manifest = Buffer.from(
			JSON.stringify({
				schemaVersion: 2,
				mediaType: OCI_MANIFEST,
				config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
				layers: [],
			}),
		);
		let push: Promise<unknown> | undefined;
		collector.before = async (op, path) => {
			if (op === "delete" && path === layerLinkDir("a", config.digest) && !push) {
				const waiting = when(
					writer,
					(o, p) => o === "getContent" && p === tombstone(config.digest),
				);
				push = repo.manifests.put("v1", manifest, { contentType: OCI_MANIFEST });
				push.catch(() => undefined);
				await waiting;
			}
		};
		await gc.garbageCollect({ gracePeriod: 0 });
		await expect(push).rejects.toBeInstanceOf(ManifestBlobUnknownError);
		await expect(repo.manifests.get(digestOf(manifest))).rejects.toBeInstanceOf(
			ManifestUnknownError,
		);
		await expect(repo.manifests.get("v1")).rejects.toBeInstanceOf(ManifestUnknownError);
	});

	it("a manifest pushed before the collector looks keeps its blobs", async () => {
		const repo = registry.repository("a");
		const config = await orphan("{}");
		const manifest = Buffer.from(
			JSON.stringify({
				schemaVersion: 2,
				mediaType: OCI_MANIFEST,
				config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
				layers: [],
			}),
		);
		let pushed = false;
		collector.before = async (op, path) => {
			if (op === "putContent" && path === tombstone(config.digest) && !pushed) {
				pushed = true;
				await repo.manifests.put("v1", manifest, { contentType: OCI_MANIFEST });
			}
		};
		const result = await gc.garbageCollect({ gracePeriod: 0 });
		expect(result).toMatchObject({ blobsDeleted: 0, linksRemoved: 0 });
		expect((await repo.manifests.get("v1")).descriptor.digest).toBe(digestOf(manifest));
		expect(await exists(store.driver, blobPath(config.digest))).toBe(true);
	});
});

describe("the collection fence on the filesystem", () => {
	it("an upload idle past the grace period, committed across a whole collection, stays", async () => {
		const { mkdtemp, rm } = await import("node:fs/promises");
		const { tmpdir } = await import("node:os");
		const dir = await mkdtemp(join(tmpdir(), "stowage-gc-idle-"));
		try {
			const driver: StorageDriver = createFsDriver({ rootDirectory: dir });
			const writer = new HookedDriver(driver);
			const repo = new Registry({ driver: writer }).repository("slow");
			const bytes = Buffer.from("uploaded two hours ago, committed now");
			const digest = digestOf(bytes);
			const session = await repo.uploads.start();
			await repo.uploads.write(session.id, body(bytes));
			// The upload's bytes were last written two hours ago, and a rename keeps that time.
			const hours = new Date(Date.now() - 2 * 3600_000);
			const partial = join(dir, "docker/registry/v2/repositories/slow/_uploads", session.id);
			await utimes(join(partial, "data~partial"), hours, hours);

			// The commit moves the bytes into place, then stalls before linking them while a whole
			// collection runs: the collection sees old bytes that nothing references.
			let release: () => void = () => undefined;
			const released = new Promise<void>((r) => {
				release = r;
			});
			writer.before = async (op, path) => {
				if (op === "putContent" && path.includes("/_layers/")) await released;
			};
			const moved = when(writer, (op, path) => op === "putContent" && path.includes("/_layers/"));
			const commit = repo.uploads.commit(session.id, digest);
			await moved;
			const result = await new Registry({ driver }).garbageCollect({ gracePeriod: 60 * 60_000 });
			release();
			expect(await commit).toMatchObject({ digest, size: bytes.length });
			expect(result).toMatchObject({ blobsDeleted: 0, blobsYoung: 1 });
			expect((await repo.blobs.stat(digest)).size).toBe(bytes.length);
		} finally {
			await rm(dir, { recursive: true, force: true });
		}
	});
});
