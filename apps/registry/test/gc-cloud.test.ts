/**
 * Collections during pushes on cloud drivers, against the strict S3 and GCS test servers on
 * loopback: object stores have no rename and no locks, the case the fence is designed for.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "@stowage/core";
import { startS3TestServer } from "@stowage/test-server-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDriver } from "../src/drivers.js";
import { body } from "./gc-fixtures.js";
import { pushWhileCollecting } from "./gc-scenario.js";
import { type CloudBackend, startGcs, startStrictS3 } from "./support/cloud.js";

let dir: string;
beforeAll(async () => {
	dir = await mkdtemp(join(tmpdir(), "stowage-gc-cloud-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const BACKENDS: { name: string; start: () => Promise<CloudBackend> }[] = [
	{ name: "s3", start: () => startStrictS3() },
	{ name: "gcs", start: () => startGcs(dir) },
];

describe.each(BACKENDS)("garbage collection during pushes on $name", ({ start }) => {
	it("pushed images stay whole, old garbage goes", async () => {
		const backend = await start();
		try {
			const driver = await loadDriver(backend.driver, backend.params);
			const outcome = await pushWhileCollecting(driver, {
				duration: 5000,
				grace: 2000,
				pushers: 2,
				garbage: 16,
				deleteUntagged: true,
				collectorDelay: 30,
			});
			expect(outcome.failures).toEqual([]);
			expect(outcome.problems).toEqual([]);
			expect(outcome.pushed.length).toBeGreaterThan(5);
			expect(outcome.collections.length).toBeGreaterThan(1);
			expect(outcome.collections.reduce((n, c) => n + c.calledOff, 0)).toBeGreaterThan(0);
		} finally {
			await backend.stop();
		}
	}, 120_000);
});

describe("upload purging on s3", () => {
	it("aborts the multipart upload of each upload it removes", async () => {
		const bucket = "purge";
		const server = await startS3TestServer({
			accessKeyId: "key",
			secretAccessKey: "secret",
			buckets: [bucket],
		});
		try {
			const driver = await loadDriver("s3", {
				region: server.region,
				bucket,
				regionendpoint: server.url,
				forcepathstyle: true,
				accesskey: "key",
				secretkey: "secret",
				rootdirectory: "/registry",
				chunksize: 5 * 1024 * 1024,
			});
			const registry = new Registry({ driver });
			const repo = registry.repository("abandoned");
			const { id } = await repo.uploads.start();
			await repo.uploads.write(id, body(Buffer.alloc(6 * 1024 * 1024, 1)));
			const uploads = () => server.store.buckets.get(bucket)?.uploads.size ?? 0;
			expect(uploads()).toBe(1);
			await new Promise((r) => setTimeout(r, 1100));

			const dry = await registry.purgeUploads({ olderThan: 0, dryRun: true });
			expect(dry.removed.map((u) => u.id)).toEqual([id]);
			expect(uploads()).toBe(1);
			const result = await registry.purgeUploads({ olderThan: 0 });
			expect(result).toMatchObject({ removed: [{ repository: "abandoned", id }], errors: [] });
			expect(uploads()).toBe(0);
		} finally {
			await server.close();
		}
	}, 60_000);
});
