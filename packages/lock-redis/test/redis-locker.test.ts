import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import {
	LockLostError,
	LockServiceError,
	RedisLocker,
	type RedisLockerOptions,
} from "../src/index.js";

const server = inject("redis");
const lockers: RedisLocker[] = [];
let admin: Redis;

/** A locker as one replica would have it: its own connection. */
function locker(options: RedisLockerOptions = {}): RedisLocker {
	const l = new RedisLocker({
		...options,
		connection: { host: server?.host, port: server?.port, ...options.connection },
	});
	lockers.push(l);
	return l;
}

describe.skipIf(server === null)("RedisLocker against a real redis-server", () => {
	beforeAll(async () => {
		admin = new Redis({ host: server?.host, port: server?.port });
	});
	afterAll(async () => {
		await admin.quit();
	});
	afterEach(async () => {
		await Promise.all(lockers.splice(0).map((l) => l.close()));
		await admin.flushall();
	});

	it("one holder per key across replicas; other keys are independent", async () => {
		const one = locker();
		const two = locker();
		await Promise.all([one.ready(), two.ready()]);
		const lock = await one.tryAcquire("upload:a:1");
		expect(lock).toBeDefined();
		expect(await two.tryAcquire("upload:a:1")).toBeUndefined();
		expect(await one.tryAcquire("upload:a:1")).toBeUndefined();
		const other = await two.tryAcquire("upload:a:2");
		expect(other).toBeDefined();
		await lock?.release();
		await lock?.release();
		const again = await two.tryAcquire("upload:a:1");
		expect(again).toBeDefined();
		await again?.release();
		await other?.release();
		expect(await admin.keys("*")).toEqual([]);
	});

	it("exactly one of many simultaneous contenders wins", async () => {
		const replicas = Array.from({ length: 8 }, () => locker());
		await Promise.all(replicas.map((r) => r.ready()));
		const locks = await Promise.all(replicas.map((r) => r.tryAcquire("upload:race:1")));
		expect(locks.filter((l) => l !== undefined)).toHaveLength(1);
		await Promise.all(locks.map((l) => l?.release()));
	});

	it("renews the lease while held, so a long request keeps its lock", async () => {
		const one = locker({ lease: 400, renewEvery: 100 });
		const lock = await one.tryAcquire("upload:long:1");
		await sleep(1500);
		expect(lock?.signal?.aborted).toBe(false);
		expect(await locker().tryAcquire("upload:long:1")).toBeUndefined();
		const ttl = await admin.pttl("stowage:lock:upload:long:1");
		expect(ttl).toBeGreaterThan(0);
		expect(ttl).toBeLessThanOrEqual(400);
		await lock?.release();
	});

	it("a holder whose key was taken over cannot release the new holder's lock, and learns it lost", async () => {
		const stale = locker({ lease: 1000, renewEvery: 100 });
		const lock = await stale.tryAcquire("upload:x:1");
		// As if the lease had run out while the holder stalled.
		await admin.del("stowage:lock:upload:x:1");
		const fresh = await locker().tryAcquire("upload:x:1");
		expect(fresh).toBeDefined();
		await sleep(300);
		expect(lock?.signal?.aborted).toBe(true);
		expect(lock?.signal?.reason).toBeInstanceOf(LockLostError);
		await lock?.release();
		expect(await locker().tryAcquire("upload:x:1")).toBeUndefined();
		await fresh?.release();
	});

	it("a holder that cannot reach Redis learns it lost the lock when the lease runs out", async () => {
		const one = locker({ lease: 600, renewEvery: 100, connection: { commandTimeout: 100 } });
		const lock = await one.tryAcquire("upload:stall:1");
		const started = Date.now();
		process.kill(server?.pid as number, "SIGSTOP");
		try {
			await new Promise((r) => lock?.signal?.addEventListener("abort", r, { once: true }));
		} finally {
			process.kill(server?.pid as number, "SIGCONT");
		}
		// Not before the lease Redis granted could have run out, and not long after.
		expect(Date.now() - started).toBeGreaterThanOrEqual(400);
		expect(Date.now() - started).toBeLessThan(3000);
		expect(lock?.signal?.reason).toBeInstanceOf(LockLostError);
		await lock?.release();
	});

	it("the lock of a holder killed with SIGKILL expires with its lease", async () => {
		const entry = resolve(import.meta.dirname, "../dist/index.js");
		const script = `
			const { RedisLocker } = await import(${JSON.stringify(entry)});
			const l = new RedisLocker({ lease: 800, connection: { host: "127.0.0.1", port: ${server?.port} } });
			const lock = await l.tryAcquire("upload:crash:1");
			console.log(lock ? "held" : "busy");
			setInterval(() => {}, 1000);`;
		const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
			stdio: ["ignore", "pipe", "inherit"],
		});
		await new Promise<void>((done, fail) => {
			child.stdout.on("data", (c: Buffer) => (String(c).includes("held") ? done() : fail(c)));
			child.once("exit", (code) => fail(new Error(`holder exited with ${code}`)));
		});
		child.kill("SIGKILL");
		const killedAt = Date.now();
		const other = locker();
		expect(await other.tryAcquire("upload:crash:1")).toBeUndefined();
		let lock: Awaited<ReturnType<RedisLocker["tryAcquire"]>>;
		for (;;) {
			lock = await other.tryAcquire("upload:crash:1");
			if (lock) break;
			await sleep(50);
		}
		expect(Date.now() - killedAt).toBeLessThan(4000);
		await lock.release();
	});

	it("an unreachable Redis is a LockServiceError, quickly", async () => {
		const down = new RedisLocker({
			connection: { host: "127.0.0.1", port: 1, connectTimeout: 500, retryStrategy: () => null },
		});
		await expect(down.ready()).rejects.toBeInstanceOf(LockServiceError);
		const started = Date.now();
		await expect(down.tryAcquire("upload:y:1")).rejects.toBeInstanceOf(LockServiceError);
		expect(Date.now() - started).toBeLessThan(3000);
		await down.close();
	});

	it("a client passed in is used as it is and left open", async () => {
		const client = new Redis({ host: server?.host, port: server?.port });
		const l = new RedisLocker({ client, prefix: "custom:" });
		const lock = await l.tryAcquire("k");
		expect(await admin.exists("custom:k")).toBe(1);
		await lock?.release();
		await l.close();
		expect(await client.ping()).toBe("PONG");
		await client.quit();
	});

	it("refuses a renewal period that does not fit in the lease", () => {
		expect(() => new RedisLocker({ client: admin, lease: 100, renewEvery: 100 })).toThrow(
			RangeError,
		);
	});
});
