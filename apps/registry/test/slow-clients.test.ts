/**
 * Slow and vanishing clients: headers that never end (slowloris), bodies that trickle or stall,
 * uploads started and abandoned. The server cuts them by its timeouts, keeps serving others in
 * bounded memory, keeps whatever bytes arrived resumable, and the purger removes what they leave.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Registry } from "@stowage/core";
import { createFsDriver } from "@stowage/driver-fs";
import { createMemoryDriver } from "@stowage/driver-memory";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUploadPurger } from "../src/purger.js";
import { createApp } from "../src/server.js";
import { http } from "./helpers.js";
import { rangeEnd, sha256 } from "./support/oci-client.js";
import { type Replica, rssOf, startReplica } from "./support/replicas.js";
import { inspectStore } from "./support/store-check.js";

let dir: string;
beforeAll(async () => {
	dir = await mkdtemp(join(tmpdir(), "stowage-slow-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/**
 * The app with its timeouts shortened: the production values (60 s for headers, 10 min of
 * idleness) work the same way, only slower.
 */
async function quickTimeoutServer(registry: Registry) {
	const app = createApp({ registry, idleTimeout: 1500 });
	app.server.headersTimeout = 1000;
	// How often Node looks for requests past their headers timeout; read when listening starts.
	(app.server as unknown as { connectionsCheckingInterval: number }).connectionsCheckingInterval =
		100;
	await app.listen({ host: "127.0.0.1", port: 0 });
	const { port } = app.server.address() as { port: number };
	return { app, port, url: `http://127.0.0.1:${port}` };
}

function open(port: number): Promise<Socket> {
	return new Promise((resolve, reject) => {
		const s = connect(port, "127.0.0.1", () => resolve(s));
		s.once("error", reject);
	});
}

/** Resolves when the server ends the connection, with what it said first. */
function closedByServer(socket: Socket): Promise<string> {
	return new Promise((resolve) => {
		let said = "";
		socket.on("data", (c) => {
			said += c;
		});
		socket.on("error", () => undefined);
		socket.once("close", () => resolve(said.slice(0, 12)));
	});
}

describe("timeouts", () => {
	it("production defaults cut slow headers after 60 s and idle connections after 10 min", () => {
		const app = createApp({ registry: new Registry({ driver: createMemoryDriver() }) });
		expect(app.server.headersTimeout).toBe(60_000);
		expect(app.server.timeout).toBe(600_000);
	});

	it("slowloris: headers that never end are cut, while other clients are served at once", async () => {
		const server = await quickTimeoutServer(new Registry({ driver: createMemoryDriver() }));
		try {
			const sockets = await Promise.all(Array.from({ length: 100 }, () => open(server.port)));
			const closed = sockets.map(closedByServer);
			for (const s of sockets) s.write("GET /v2/ HTTP/1.1\r\nHost: x\r\n");
			const drip = setInterval(() => {
				for (const s of sockets)
					if (!s.destroyed) s.write(`X-Drip-${randomBytes(2).toString("hex")}: 1\r\n`);
			}, 200);
			try {
				const started = Date.now();
				const res = await http(`${server.url}/v2/`);
				expect(res.status).toBe(200);
				expect(Date.now() - started).toBeLessThan(1000);
				const answers = await Promise.race([
					Promise.all(closed),
					sleep(5000).then(() => "still open"),
				]);
				expect(answers).not.toBe("still open");
				for (const a of answers as string[]) expect(["HTTP/1.1 408", ""]).toContain(a);
			} finally {
				clearInterval(drip);
				for (const s of sockets) s.destroy();
			}
		} finally {
			await server.app.close();
		}
	});

	it("a body that stalls is cut at the idle timeout; what arrived is kept and resumes", async () => {
		const registry = new Registry({
			driver: createFsDriver({ rootDirectory: join(dir, "stall") }),
		});
		const server = await quickTimeoutServer(registry);
		try {
			const start = await http(`${server.url}/v2/slow/stall/blobs/uploads/`, { method: "POST" });
			const location = start.headers.location as string;
			const data = randomBytes(300_000);
			const socket = await open(server.port);
			const closed = closedByServer(socket);
			socket.write(
				`PATCH ${location} HTTP/1.1\r\nHost: x\r\nContent-Length: ${data.length}\r\nContent-Range: 0-${data.length - 1}\r\n\r\n`,
			);
			socket.write(data.subarray(0, 100_000));
			const finish = () =>
				http(`${server.url}${location}?digest=${sha256(data)}`, {
					method: "PUT",
					headers: { "content-range": `100000-${data.length - 1}` },
					body: data.subarray(100_000),
				});
			const stalled = Date.now();
			await closed;
			expect(Date.now() - stalled).toBeGreaterThanOrEqual(1000);
			expect(Date.now() - stalled).toBeLessThan(5000);
			// The request's bytes are on disk before its status says so.
			let offset = 0;
			for (let i = 0; i < 50 && offset < 100_000; i++) {
				offset = rangeEnd((await http(`${server.url}${location}`)).headers.range);
				if (offset < 100_000) await sleep(20);
			}
			expect(offset).toBe(100_000);
			// The cut request may still be saving its digest state: 409 until it lets go.
			let put = await finish();
			for (let i = 0; i < 20 && put.status === 409; i++) {
				await sleep(100);
				put = await finish();
			}
			expect(put.status).toBe(201);
		} finally {
			await server.app.close();
		}
	});

	it("a body that trickles but never idles is a slow client, not an attack: it completes", async () => {
		const server = await quickTimeoutServer(new Registry({ driver: createMemoryDriver() }));
		try {
			const start = await http(`${server.url}/v2/slow/trickle/blobs/uploads/`, { method: "POST" });
			const data = randomBytes(4000);
			async function* drip() {
				for (let at = 0; at < data.length; at += 400) {
					yield data.subarray(at, at + 400);
					await sleep(300);
				}
			}
			const res = await http(`${server.url}${start.headers.location}?digest=${sha256(data)}`, {
				method: "PUT",
				body: drip(),
			});
			expect(res.status).toBe(201);
		} finally {
			await server.app.close();
		}
	});
});

describe("many slow clients against a running registry", () => {
	let replica: Replica;
	beforeAll(async () => {
		replica = await startReplica({ dir: join(dir, "replica"), root: join(dir, "replica-store") });
	});
	afterAll(() => replica.stop());

	it("300 stalled connections (headers and bodies) cost bounded memory and block nobody", async () => {
		const before = rssOf(replica.pid());
		const sockets: Socket[] = [];
		for (let i = 0; i < 300; i++) {
			const s = await open(replica.port);
			s.on("error", () => undefined);
			if (i % 2 === 0) s.write("GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Slow: ");
			else {
				s.write(
					`POST /v2/slow/many${i}/blobs/uploads/?digest=sha256:${"a".repeat(64)} HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n`,
				);
				s.write(randomBytes(20_000));
			}
			sockets.push(s);
		}
		await sleep(500);
		const started = Date.now();
		const res = await http(`${replica.url}/v2/`);
		expect(res.status).toBe(200);
		expect(Date.now() - started).toBeLessThan(1000);
		expect(rssOf(replica.pid()) - before).toBeLessThan(64 * 1024 * 1024);
		for (const s of sockets) s.destroy();
		await sleep(300);
		expect((await http(`${replica.url}/v2/`)).status).toBe(200);
		// The monolithic pushes that never finished left nothing: their sessions were cancelled.
		await sleep(500);
		expect((await inspectStore(join(dir, "replica-store"))).uploads).toEqual([]);
	});
});

describe("abandoned uploads", () => {
	it("the scheduled purger removes what abandoned and cut-off uploads leave, and nothing young", async () => {
		let now = new Date();
		const root = join(dir, "abandoned");
		const registry = new Registry({
			driver: createFsDriver({ rootDirectory: root }),
			now: () => now,
		});
		const server = await quickTimeoutServer(registry);
		try {
			for (let i = 0; i < 10; i++) {
				const start = await http(`${server.url}/v2/slow/gone${i % 3}/blobs/uploads/`, {
					method: "POST",
				});
				if (i % 2 === 0) {
					await http(`${server.url}${start.headers.location}`, {
						method: "PATCH",
						body: randomBytes(10_000 * (i + 1)),
					});
				}
			}
			expect((await inspectStore(root)).uploads).toHaveLength(10);
			now = new Date(now.getTime() + 2 * 3_600_000);
			const young = await http(`${server.url}/v2/slow/young/blobs/uploads/`, { method: "POST" });
			const purger = startUploadPurger(
				registry,
				{ age: 3_600_000, interval: 60_000, dryRun: false, initialDelay: 0 },
				pino({ level: "silent" }),
			);
			await sleep(200);
			await purger.runOnce();
			await purger.stop();
			const left = (await inspectStore(root)).uploads;
			expect(left).toHaveLength(1);
			expect(left[0]).toContain(young.headers["docker-upload-uuid"]);
		} finally {
			await server.app.close();
		}
	});
});
