/** Metrics, health checks and request ids: what an operator watches. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { Registry, type StorageDriver, StorageDriverError } from "@stowage/core";
import { createMemoryDriver } from "@stowage/driver-memory";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { startCollector } from "../src/gc-scheduler.js";
import { meteredDriver } from "../src/metered-driver.js";
import { Metrics } from "../src/metrics.js";
import { type RunningServer, serve } from "../src/serve.js";
import { HookedDriver } from "./gc-fixtures.js";
import { codes, http, pushBlob, sha256, startServer } from "./helpers.js";

/** One sample of a metric in Prometheus text format; 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
	for (const line of text.split("\n")) {
		if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
		const match = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
		if (match) return Number(line.slice(line.lastIndexOf(" ") + 1));
	}
	return 0;
}

describe("metrics on the debug address", () => {
	let dir: string;
	let server: RunningServer;
	let base: string;
	const scrape = async () => {
		const res = await http(`http://${server.debugAddress}/metrics`);
		expect(res.status).toBe(200);
		expect(res.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
		return res.text;
	};

	beforeAll(async () => {
		dir = await mkdtemp(join(tmpdir(), "stowage-metrics-"));
		const file = join(dir, "config.yml");
		await writeFile(
			file,
			[
				"http:",
				"  addr: 127.0.0.1:0",
				"  debug:",
				"    addr: 127.0.0.1:0",
				"    prometheus:",
				"      enabled: true",
				"log:",
				"  level: silent",
				"storage:",
				"  inmemory: {}",
				"  maintenance:",
				"    uploadpurging:",
				"      enabled: false",
			].join("\n"),
		);
		server = await serve(loadConfig(file, {}));
		base = `http://${server.address}`;
	});
	afterAll(async () => {
		await server?.close();
		await rm(dir, { recursive: true, force: true });
	});

	it("is off the API's address, and only there", async () => {
		expect(server.debugAddress).toMatch(/^127\.0\.0\.1:\d+$/);
		expect(server.debugAddress).not.toBe(server.address);
		expect((await http(`${base}/metrics`)).status).toBe(404);
		expect((await http(`http://${server.debugAddress}/other`)).status).toBe(404);
	});

	it("counts requests, bytes, upload events and driver calls as they happen", async () => {
		const before = await scrape();
		const blob = Buffer.alloc(4096, 7);
		await pushBlob(base, "m/app", blob);
		const session = await http(`${base}/v2/m/app/blobs/uploads/`, { method: "POST" });
		expect(session.status).toBe(202);
		const cancel = await http(`${base}${session.headers.location}`, { method: "DELETE" });
		expect(cancel.status).toBe(204);
		const mount = await http(`${base}/v2/m/other/blobs/uploads/?mount=${sha256(blob)}&from=m/app`, {
			method: "POST",
		});
		expect(mount.status).toBe(201);
		expect((await http(`${base}/v2/m/app/blobs/${sha256("nothing")}`)).status).toBe(404);
		const after = await scrape();

		const delta = (name: string, labels: Record<string, string> = {}) =>
			sample(after, name, labels) - sample(before, name, labels);
		expect(
			delta("stowage_http_requests_total", { method: "POST", route: "uploads", status: "201" }),
		).toBe(2);
		expect(
			delta("stowage_http_requests_total", { method: "GET", route: "blob", status: "404" }),
		).toBe(1);
		expect(
			delta("stowage_http_request_duration_seconds_count", { route: "upload", status: "204" }),
		).toBe(1);
		expect(delta("stowage_http_request_bytes_total", { route: "uploads" })).toBe(blob.length);
		expect(delta("stowage_http_response_bytes_total", { route: "blob" })).toBeGreaterThan(0);
		expect(delta("stowage_uploads_total", { event: "started" })).toBe(1);
		expect(delta("stowage_uploads_total", { event: "committed" })).toBe(1);
		expect(delta("stowage_uploads_total", { event: "cancelled" })).toBe(1);
		expect(delta("stowage_uploads_total", { event: "mounted" })).toBe(1);
		const driverCalls = delta("stowage_storage_operation_duration_seconds_count", {
			driver: "inmemory",
			operation: "putContent",
		});
		expect(driverCalls).toBeGreaterThan(0);
		// Process metrics come along.
		expect(after).toMatch(/^process_cpu_user_seconds_total /m);
	});

	it("a failing driver call is counted by driver and operation", async () => {
		const metrics = new Metrics({ defaultMetrics: false });
		const faulty = new HookedDriver(createMemoryDriver());
		faulty.before = (op) => {
			if (op === "list") throw new StorageDriverError("inmemory", "injected list failure");
		};
		const s = await startServer({
			registry: new Registry({ driver: meteredDriver(faulty, metrics) }),
			metrics,
		});
		try {
			expect((await http(`${s.url}/v2/x/tags/list`)).status).toBe(503);
			const text = await metrics.registry.metrics();
			expect(
				sample(text, "stowage_storage_operation_errors_total", {
					driver: "inmemory",
					operation: "list",
				}),
			).toBe(1);
		} finally {
			await s.close();
		}
	});

	it("garbage collection runs and bytes freed are counted", async () => {
		const metrics = new Metrics({ defaultMetrics: false });
		const registry = new Registry({ driver: createMemoryDriver() });
		const repo = registry.repository("g");
		const session = await repo.uploads.start();
		const garbage = Buffer.from("garbage bytes");
		await repo.uploads.commit(session.id, sha256(garbage), {
			body: (async function* () {
				yield garbage;
			})(),
		});
		await new Promise((r) => setTimeout(r, 5));
		const collector = startCollector(
			registry,
			{
				interval: 3_600_000,
				grace: 0,
				deleteUntagged: false,
				dryRun: false,
				initialDelay: 3_600_000,
			},
			pino({ level: "silent" }),
			metrics,
		);
		try {
			expect((await collector.runOnce())?.bytesFreed).toBe(garbage.length);
			const text = await metrics.registry.metrics();
			expect(sample(text, "stowage_gc_runs_total", { result: "ok" })).toBe(1);
			expect(sample(text, "stowage_gc_bytes_freed_total")).toBe(garbage.length);
			expect(sample(text, "stowage_gc_blobs_deleted_total")).toBe(1);
			expect(sample(text, "stowage_gc_last_success_timestamp_seconds")).toBeGreaterThan(0);
		} finally {
			await collector.stop();
		}
	});
});

describe("health checks", () => {
	const hanging = () => {
		const driver = new HookedDriver(createMemoryDriver());
		driver.before = () => new Promise<never>(() => undefined);
		return driver;
	};

	it("/healthz and /readyz answer 200 on a working driver; /readyz leaves nothing behind", async () => {
		const driver = createMemoryDriver();
		const s = await startServer({ driver });
		try {
			expect((await http(`${s.url}/healthz`)).json()).toMatchObject({ status: "ok" });
			const ready = await http(`${s.url}/readyz`);
			expect(ready.status).toBe(200);
			expect(ready.headers["cache-control"]).toBe("no-store");
			expect(await driver.list("/")).toEqual([]);
		} finally {
			await s.close();
		}
	});

	it("a failing driver makes both 503", async () => {
		const driver = new HookedDriver(createMemoryDriver());
		driver.before = () => {
			throw new StorageDriverError("inmemory", "the disk is on fire");
		};
		const s = await startServer({ driver });
		try {
			for (const path of ["/healthz", "/readyz"]) {
				const res = await http(`${s.url}${path}`);
				expect(res.status, path).toBe(503);
				expect(res.json()).toMatchObject({ status: "unhealthy", driver: "inmemory" });
				expect(res.json().error).toMatch(/the disk is on fire/);
			}
		} finally {
			await s.close();
		}
	});

	it("a hanging driver makes both 503 once the timeout passes", async () => {
		const s = await startServer({ driver: hanging(), healthTimeout: 200 });
		try {
			for (const path of ["/healthz", "/readyz"]) {
				const started = Date.now();
				const res = await http(`${s.url}${path}`);
				expect(res.status, path).toBe(503);
				expect(res.json().error).toMatch(/did not answer within 200 ms/);
				expect(Date.now() - started).toBeLessThan(2000);
			}
		} finally {
			await s.close();
		}
	});

	it("a read-only registry's readiness check writes nothing", async () => {
		const driver = new HookedDriver(createMemoryDriver());
		const writes: string[] = [];
		driver.before = (op, path) => {
			if (op === "putContent" || op === "delete") writes.push(path);
		};
		const s = await startServer({ driver, readOnly: true });
		try {
			expect((await http(`${s.url}/readyz`)).status).toBe(200);
			expect(writes).toEqual([]);
		} finally {
			await s.close();
		}
	});
});

describe("request ids", () => {
	async function withLogs(fn: (url: string, logs: () => any[]) => Promise<void>) {
		const lines: string[] = [];
		const logger = pino(
			{ level: "debug" },
			new Writable({
				write(chunk, _encoding, done) {
					lines.push(String(chunk));
					done();
				},
			}),
		);
		const s = await startServer({ logger, driver: createMemoryDriver() as StorageDriver });
		try {
			await fn(s.url, () => lines.map((l) => JSON.parse(l)));
		} finally {
			await s.close();
		}
	}

	it("a sane incoming X-Request-Id is kept: response header, error body and log lines", async () => {
		await withLogs(async (url, logs) => {
			const id = "trace-1234.abc:5";
			const res = await http(`${url}/v2/a/blobs/${sha256("missing")}`, {
				headers: { "x-request-id": id },
			});
			expect(res.status).toBe(404);
			expect(res.headers["x-request-id"]).toBe(id);
			expect(res.json().errors[0]).toMatchObject({
				code: "BLOB_UNKNOWN",
				detail: { requestId: id },
			});
			const access = logs().find((l) => l.msg === "request completed");
			expect(access).toMatchObject({ reqId: id, status: 404 });
		});
	});

	it("an insane one is replaced by a fresh id", async () => {
		await withLogs(async (url) => {
			for (const bad of ["has spaces in it", "x".repeat(200), "semi;colon"]) {
				const res = await http(`${url}/v2/`, { headers: { "x-request-id": bad } });
				expect(res.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
			}
		});
	});

	it("every error response carries it, keeping other details", async () => {
		await withLogs(async (url) => {
			const cases = [
				await http(`${url}/nope`),
				await http(`${url}/v2/a/tags/list`, { method: "DELETE" }),
				await http(`${url}/v2/A/tags/list`),
				await http(`${url}/v2/a/blobs/sha256:zz`),
				await http(`${url}/v2/a/tags/list?n=x`),
				await http(`${url}/v2/a/manifests/v1`, {
					method: "PUT",
					headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
					body: JSON.stringify({
						schemaVersion: 2,
						mediaType: "application/vnd.oci.image.manifest.v1+json",
						config: { mediaType: "x/y", digest: sha256("c"), size: 1 },
						layers: [],
					}),
				}),
			];
			for (const res of cases) {
				expect(res.status).toBeGreaterThanOrEqual(400);
				for (const e of res.json().errors) {
					expect(e.detail.requestId, JSON.stringify(e)).toBe(res.headers["x-request-id"]);
				}
			}
			const unknown = cases.at(-1);
			expect(codes(unknown as (typeof cases)[number])).toEqual(["MANIFEST_BLOB_UNKNOWN"]);
			expect(unknown?.json().errors[0].detail.digest).toBe(sha256("c"));
		});
	});
});
