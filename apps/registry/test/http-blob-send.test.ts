// GET of blobs whose reader can fill the server's buffers (fs and memory): the bytes arrive whole
// across many buffer turns, and a client that goes away or a read that fails mid-body costs the
// server nothing (no open file left behind, no crash, the next request served).
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FillableReadable, isFillable, type StorageDriver } from "@stowage/core";
import { createFsDriver } from "@stowage/driver-fs";
import { createMemoryDriver } from "@stowage/driver-memory";
import { afterAll, describe, expect, it } from "vitest";
import { http, pushBlob, sha256, startServer, type TestServer } from "./helpers.js";

const MiB = 1024 * 1024;
const dirs: string[] = [];
afterAll(() => {
	for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function fsDriver(): StorageDriver {
	const dir = mkdtempSync(join(tmpdir(), "stowage-send-"));
	dirs.push(dir);
	return createFsDriver({ rootDirectory: dir });
}

const openFds = () => readdirSync("/proc/self/fd").length;

/** GET that reads `keep` bytes of the body, then destroys the connection. */
function getThenHangUp(url: string, keep: number): Promise<number> {
	return new Promise((resolve, reject) => {
		const req = httpRequest(url, (res) => {
			let got = 0;
			res.on("data", (chunk: Buffer) => {
				got += chunk.length;
				if (got >= keep) {
					req.destroy();
					resolve(got);
				}
			});
			res.on("error", () => undefined);
		});
		req.on("error", (err) => {
			if (!req.destroyed) reject(err);
		});
		req.end();
	});
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
	const deadline = Date.now() + ms;
	while (!check()) {
		if (Date.now() > deadline) throw new Error("condition not reached in time");
		await new Promise((r) => setTimeout(r, 20));
	}
}

for (const [name, make] of [
	["fs", fsDriver],
	["memory", () => createMemoryDriver()],
] as const) {
	describe(`GET through fill (${name} driver)`, () => {
		it("a blob of many buffer turns and an odd tail arrives whole, ranges too", async () => {
			const server = await startServer({ driver: make() });
			try {
				const content = randomBytes(3 * MiB + 12_345);
				const { digest } = await pushBlob(server.url, "lib/send", content);
				const res = await http(`${server.url}/v2/lib/send/blobs/${digest}`);
				expect(res.status).toBe(200);
				expect(res.headers["content-length"]).toBe(String(content.length));
				expect(res.body.length).toBe(content.length);
				expect(sha256(res.body)).toBe(digest);
				const ranged = await http(`${server.url}/v2/lib/send/blobs/${digest}`, {
					headers: { range: `bytes=${MiB - 3}-${2 * MiB + 4}` },
				});
				expect(ranged.status).toBe(206);
				expect(ranged.body.equals(content.subarray(MiB - 3, 2 * MiB + 5))).toBe(true);
			} finally {
				await server.close();
			}
		});

		it("neither a whole GET nor one the client hangs up on leaves the blob open", async () => {
			const server = await startServer({ driver: make() });
			try {
				const content = randomBytes(8 * MiB);
				const { digest } = await pushBlob(server.url, "lib/send", content);
				const url = `${server.url}/v2/lib/send/blobs/${digest}`;
				// Warm up: undici keeps this connection (two descriptors) open for the next requests.
				expect(sha256((await http(url)).body)).toBe(digest);
				const before = openFds();
				for (let i = 0; i < 5; i++) {
					const res = await http(url);
					expect(sha256(res.body)).toBe(digest);
				}
				await until(() => openFds() <= before);
				for (let i = 0; i < 5; i++) await getThenHangUp(url, 300 * 1024);
				// The server's side of each connection closes, and with it the blob's file.
				await until(() => openFds() <= before);
				const res = await http(url);
				expect(sha256(res.body)).toBe(digest);
			} finally {
				await server.close();
			}
		});
	});
}

/** A driver whose readers fail on the `failAt`-th fill: a disk error in the middle of a GET. */
function failingFills(inner: StorageDriver, failAt: number): StorageDriver {
	return new Proxy(inner, {
		get(target, prop, receiver) {
			if (prop !== "reader") return Reflect.get(target, prop, receiver);
			return async (...args: Parameters<StorageDriver["reader"]>) => {
				const stream = await target.reader(...args);
				if (!isFillable(stream)) throw new Error("the inner driver must offer fill");
				let calls = 0;
				const fill = stream.fill.bind(stream);
				(stream as FillableReadable).fill = async (buf) => {
					if (++calls === failAt) throw new Error("EIO: injected read failure");
					return fill(buf);
				};
				return stream;
			};
		},
	});
}

describe("GET through fill: a read failing mid-body", () => {
	let server: TestServer | undefined;
	afterAll(async () => server?.close());

	it("cuts the connection short of Content-Length, and the server carries on", async () => {
		server = await startServer({ driver: failingFills(fsDriver(), 3) });
		const content = randomBytes(2 * MiB);
		const { digest } = await pushBlob(server.url, "lib/send", content);
		const url = `${server.url}/v2/lib/send/blobs/${digest}`;
		const outcome = await new Promise<{ got: number; error?: string }>((resolve) => {
			const req = httpRequest(url, (res) => {
				let got = 0;
				res.on("data", (chunk: Buffer) => {
					got += chunk.length;
				});
				res.on("end", () => resolve({ got }));
				res.on("error", (err) => resolve({ got, error: err.message }));
			});
			req.on("error", (err) => resolve({ got: -1, error: err.message }));
			req.end();
		});
		expect(outcome.error, "the client must see the body cut, not a short success").toBeDefined();
		expect(outcome.got).toBeLessThan(content.length);
		const head = await http(url, { method: "HEAD" });
		expect(head.status).toBe(200);
	});
});
