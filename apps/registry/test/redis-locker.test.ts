/**
 * The `redis` section: Distribution's keys select the Redis upload locker, imported by name like
 * a driver; start-up fails on a Redis that does not answer; and a holder that loses its lease
 * stops writing, answering 503 with the bytes written so far kept.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { Registry } from "@stowage/core";
import { createFsDriver } from "@stowage/driver-fs";
import { RedisLocker } from "@stowage/lock-redis";
import { pino } from "pino";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";
import { loadLocker } from "../src/lockers.js";
import { codes, http, startServer } from "./helpers.js";
import { rangeEnd } from "./support/oci-client.js";
import { type RedisServer, redisInstalled, startRedisServer } from "./support/redis.js";

const silent = pino({ level: "silent" });

describe("configuration", () => {
	it("reads Distribution's redis keys, from the file or the environment", () => {
		const c = loadConfig(undefined, {
			REGISTRY_REDIS_ADDR: "redis.internal:6380",
			REGISTRY_REDIS_PASSWORD: "12345",
			REGISTRY_REDIS_DB: "2",
			REGISTRY_REDIS_READTIMEOUT: "3s",
			REGISTRY_REDIS_LOCKLEASE: "20s",
		});
		expect(c.redis).toEqual({
			host: "redis.internal",
			port: 6380,
			password: "12345",
			db: 2,
			tls: false,
			dialTimeout: 5000,
			commandTimeout: 3000,
			lockLease: 20_000,
		});
		expect(c.warnings).toEqual([]);
		expect(loadConfig(undefined, {}).redis).toBeUndefined();
	});

	it("pool settings are accepted and ignored; mistakes stop start-up", () => {
		const pool = loadConfig(undefined, {
			REGISTRY_REDIS_ADDR: "127.0.0.1:6379",
			REGISTRY_REDIS_POOL_MAXIDLE: "16",
		});
		expect(pool.warnings.join()).toContain("redis.pool");
		for (const env of [
			{ REGISTRY_REDIS_PASSWORD: "x" },
			{ REGISTRY_REDIS_ADDR: "nohost" },
			{ REGISTRY_REDIS_ADDR: "127.0.0.1:6379", REGISTRY_REDIS_DB: "-1" },
			{ REGISTRY_REDIS_ADDR: "127.0.0.1:6379", REGISTRY_REDIS_LOCKLEASE: "10ms" },
		]) {
			expect(() => loadConfig(undefined, env)).toThrow(ConfigError);
		}
	});

	it("without @stowage/lock-redis installed, one line says what to add", async () => {
		const settings = loadConfig(undefined, { REGISTRY_REDIS_ADDR: "127.0.0.1:6379" }).redis;
		const missing = async () => {
			throw Object.assign(new Error("Cannot find package '@stowage/lock-redis'"), {
				code: "ERR_MODULE_NOT_FOUND",
			});
		};
		await expect(loadLocker(settings, silent, missing)).rejects.toThrow(
			"redis needs the package @stowage/lock-redis, which is not installed: add it (pnpm add @stowage/lock-redis)",
		);
		expect(await loadLocker(undefined, silent)).toBeUndefined();
	});

	it("a Redis that does not answer stops start-up", async () => {
		const settings = loadConfig(undefined, {
			REGISTRY_REDIS_ADDR: "127.0.0.1:1",
			REGISTRY_REDIS_DIALTIMEOUT: "500ms",
		}).redis;
		await expect(loadLocker(settings, silent)).rejects.toThrow(/redis at 127\.0\.0\.1:1/);
	});
});

describe.skipIf(!redisInstalled("redis-locker"))("a holder that loses its lease", () => {
	let redis: RedisServer;
	let dir: string;
	beforeAll(async () => {
		redis = await startRedisServer();
		dir = await mkdtemp(join(tmpdir(), "stowage-lease-"));
	});
	afterAll(async () => {
		await redis.stop();
		await rm(dir, { recursive: true, force: true });
	});

	it("stops writing at once: 503, and the bytes before the loss are kept for the next holder", async () => {
		const locker = new RedisLocker({
			lease: 1500,
			renewEvery: 100,
			connection: { host: redis.host, port: redis.port },
		});
		const driver = createFsDriver({ rootDirectory: dir });
		const server = await startServer({ registry: new Registry({ driver, locker }) });
		// The locker's own connection serves as the admin's.
		const admin = locker.client;
		try {
			const start = await http(`${server.url}/v2/lease/lost/blobs/uploads/`, { method: "POST" });
			const location = start.headers.location as string;
			const data = randomBytes(2 * 1024 * 1024);
			async function* trickle() {
				for (let at = 0; at < data.length; at += 64 * 1024) {
					yield data.subarray(at, at + 64 * 1024);
					await sleep(20);
				}
			}
			const patch = request(`${server.url}${location}`, {
				method: "PATCH",
				headers: { "content-range": `0-${data.length - 1}`, "content-length": String(data.length) },
				body: Readable.from(trickle()),
			}).then(
				async (res) => ({ status: res.statusCode, body: await res.body.text() }),
				(err: Error) => ({ status: 0, body: err.message }),
			);
			await sleep(200);
			// Another holder takes the key, as if this one had stalled past its lease.
			const [key] = await admin.keys("stowage:lock:*");
			await admin.set(key as string, "someone-else");
			const res = await patch;
			expect(res.status).toBe(503);
			expect(codes({ ...res, json: () => JSON.parse(res.body) } as never)).toEqual(["UNAVAILABLE"]);
			await admin.del(key as string);
			const offset = rangeEnd((await http(`${server.url}${location}`)).headers.range);
			expect(offset).toBeGreaterThan(0);
			expect(offset).toBeLessThan(data.length);
		} finally {
			await server.close();
			await locker.close();
		}
	});
});
