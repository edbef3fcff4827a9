/**
 * Scale-out over a cloud driver: three registry processes over one Azure container (Azurite),
 * upload locks in Redis. The same promises as over a shared directory: any replica continues any
 * upload, two writers of one upload never interleave, a herd pushing one image leaves one blob
 * per digest and no upload behind.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { StorageDriver } from "@stowage/core";
import { createAzureDriver } from "@stowage/driver-azure";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AZURITE_ACCOUNT, AZURITE_KEY, type Azurite, startAzurite } from "./support/azurite.js";
import { imageManifest, OciClient, sha256 } from "./support/oci-client.js";
import { type RedisServer, redisInstalled, startRedisServer } from "./support/redis.js";
import { type Replica, startReplica } from "./support/replicas.js";
import { put, roundRobin, slowPatch, startUpload } from "./support/scale.js";
import { inspectDriverStore } from "./support/store-check.js";

const haveRedis = redisInstalled("scale-out-azure");
let dir: string;
let azurite: Azurite;
let redis: RedisServer | undefined;
let replicas: Replica[] = [];
let driver: StorageDriver;

beforeAll(async () => {
	dir = await mkdtemp(join(tmpdir(), "stowage-scale-azure-"));
	[azurite, redis] = await Promise.all([
		startAzurite(),
		haveRedis ? startRedisServer() : Promise.resolve(undefined),
	]);
	const azure = {
		accountname: AZURITE_ACCOUNT,
		accountkey: AZURITE_KEY,
		container: "stowage-scale",
		serviceurl: azurite.serviceUrl,
	};
	driver = createAzureDriver(azure);
	replicas = await Promise.all(
		[0, 1, 2].map((i) =>
			startReplica({ dir: join(dir, `r${i}`), root: "", storage: { azure }, redis }),
		),
	);
}, 90_000);

afterAll(async () => {
	await Promise.all(replicas.map((r) => r.stop()));
	await Promise.all([azurite?.stop(), redis?.stop()]);
	await rm(dir, { recursive: true, force: true });
});

describe("replicas over one Azure container", () => {
	it("one upload spread across replicas: POST on one, PATCHes round-robin, PUT on another", async () => {
		const served: string[] = [];
		const client = new OciClient({ base: roundRobin(replicas, 0, served) });
		const data = randomBytes(2 * 1024 * 1024 + 5);
		const digest = await client.pushBlob("azure/spread", data, {
			chunks: [600_000, 98_765, 1_000_000],
			lastInPut: 3000,
		});
		expect(new Set(served).size).toBe(3);
		for (const r of replicas) {
			const back = await new OciClient({ base: () => r.url }).getBlob("azure/spread", digest);
			expect(back.equals(data)).toBe(true);
		}
	});

	it.skipIf(!haveRedis)(
		"racing writers through different replicas: never both accepted, never interleaved",
		async () => {
			for (let round = 0; round < 4; round++) {
				const a = randomBytes(200_000);
				const b = randomBytes(200_000);
				const location = await startUpload(replicas[round % 3]?.url as string, "azure/race");
				const [ra, rb] = await Promise.all([
					slowPatch(replicas[(round + 1) % 3]?.url as string, location, a),
					sleep(round * 10).then(() =>
						slowPatch(replicas[(round + 2) % 3]?.url as string, location, b),
					),
				]);
				expect([ra.status, rb.status].filter((s) => s === 202)).toHaveLength(1);
				expect([409, 416]).toContain(ra.status === 202 ? rb.status : ra.status);
				const won = ra.status === 202 ? a : b;
				expect(await put(replicas[round % 3]?.url as string, location, sha256(won))).toBe(201);
			}
		},
	);

	it("many clients push one image through different replicas: one blob per digest, no upload left", async () => {
		const repo = "azure/herd";
		const config = Buffer.from('{"os":"linux","herd":true}');
		const layers = [randomBytes(1024 * 1024), randomBytes(300_000)];
		const image = imageManifest(config, layers);
		await Promise.all(
			Array.from({ length: 6 }, async (_, i) => {
				const client = new OciClient({ base: roundRobin(replicas, i) });
				await client.pushBlob(repo, config, { monolithic: i % 2 === 0 });
				for (const layer of layers) {
					await client.pushBlob(repo, layer, {
						chunks: [256 * 1024 + i * 1000],
						lastInPut: i * 10,
					});
				}
				await client.pushManifest(repo, "latest", image.bytes, image.mediaType);
			}),
		);
		const check = new OciClient({ base: () => replicas[2]?.url as string });
		expect((await check.getManifest(repo, "latest")).headers["docker-content-digest"]).toBe(
			image.digest,
		);
		const report = await inspectDriverStore(driver);
		expect(report.corrupt).toEqual([]);
		expect(report.badLinks).toEqual([]);
		expect(report.uploads.filter((u) => u.includes(`/${repo}/`))).toEqual([]);
		for (const blob of [config, ...layers]) {
			const hex = sha256(blob).slice(7);
			const dir = `/docker/registry/v2/blobs/sha256/${hex.slice(0, 2)}/${hex}`;
			// One blob: its data (and garbage collection's marker, where that is written).
			expect((await driver.list(dir)).filter((p) => !p.endsWith("/linkedat"))).toEqual([
				`${dir}/data`,
			]);
		}
	});
});
