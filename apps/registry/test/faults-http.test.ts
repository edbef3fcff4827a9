/**
 * Backend faults seen over HTTP: a failing driver (errors, short writes, a failure between the
 * data move and the link) makes the registry answer 503 UNAVAILABLE with Retry-After, never a
 * client-error code; it never corrupts, never links an incomplete blob, and a client that
 * retries finishes its push.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "@stowage/core";
import { type FaultInjector, faultyDriver } from "@stowage/driver-conformance";
import { createFsDriver } from "@stowage/driver-fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { codes, http, startServer, type TestServer } from "./helpers.js";
import { imageManifest, OciClient, rangeEnd, sha256 } from "./support/oci-client.js";
import { inspectStore } from "./support/store-check.js";

let dir: string;
let faults: FaultInjector;
let server: TestServer;

beforeAll(async () => {
	dir = await mkdtemp(join(tmpdir(), "stowage-faults-"));
	faults = faultyDriver(createFsDriver({ rootDirectory: dir }), { seed: 42 });
	server = await startServer({ registry: new Registry({ driver: faults.driver }) });
});
afterEach(() => faults.clear());
afterAll(async () => {
	await server.close();
	await rm(dir, { recursive: true, force: true });
});

async function startUpload(repo: string): Promise<string> {
	const res = await http(`${server.url}/v2/${repo}/blobs/uploads/`, { method: "POST" });
	expect(res.status).toBe(202);
	return res.headers.location as string;
}

function expectUnavailable(res: Awaited<ReturnType<typeof http>>) {
	expect(res.status).toBe(503);
	expect(res.headers["retry-after"]).toBe("1");
	expect(codes(res)).toEqual(["UNAVAILABLE"]);
	// The request id, not the driver's message: internals stay in the log.
	expect(res.text).not.toContain("injected");
}

describe("a failing backend answers 503 UNAVAILABLE", () => {
	it("on every kind of request", async () => {
		const client = new OciClient({ base: () => server.url });
		const blob = await client.pushBlob("faults/kinds", Buffer.from("some bytes"));
		const image = imageManifest(Buffer.from("{}"), []);
		await client.pushBlob("faults/kinds", Buffer.from("{}"));
		await client.pushManifest("faults/kinds", "v1", image.bytes, image.mediaType);

		faults.inject({ op: "putContent", effect: { type: "error" } });
		expectUnavailable(
			await http(`${server.url}/v2/faults/kinds/blobs/uploads/`, { method: "POST" }),
		);
		faults.inject({ op: "getContent", path: /_layers/, effect: { type: "error" } });
		expectUnavailable(await http(`${server.url}/v2/faults/kinds/blobs/${blob}`));
		faults.inject({ op: "getContent", path: /_manifests/, effect: { type: "error" } });
		expectUnavailable(await http(`${server.url}/v2/faults/kinds/manifests/v1`));
		faults.inject({ op: "list", effect: { type: "error" } });
		expectUnavailable(await http(`${server.url}/v2/faults/kinds/tags/list`));
		faults.inject({ op: "putContent", path: /_manifests/, effect: { type: "error" } });
		expectUnavailable(
			await http(`${server.url}/v2/faults/kinds/manifests/v2`, {
				method: "PUT",
				headers: { "content-type": image.mediaType },
				body: image.bytes,
			}),
		);
		// Faults spent: everything answers again.
		expect((await http(`${server.url}/v2/faults/kinds/manifests/v1`)).status).toBe(200);
	});

	it("a PATCH hit by a short write: 503, then the status reports what was kept and the push resumes", async () => {
		const repo = "faults/short";
		const data = randomBytes(600_000);
		const location = await startUpload(repo);
		faults.inject({ op: "writer.write", after: 1, effect: { type: "short-write", bytes: 4096 } });
		expectUnavailable(
			await http(`${server.url}${location}`, {
				method: "PATCH",
				headers: { "content-range": `0-${data.length - 1}` },
				body: data,
			}),
		);
		const status = await http(`${server.url}${location}`);
		const offset = rangeEnd(status.headers.range);
		expect(offset).toBeGreaterThan(0);
		expect(offset).toBeLessThan(data.length);
		const put = await http(`${server.url}${location}?digest=${sha256(data)}`, {
			method: "PUT",
			headers: { "content-range": `${offset}-${data.length - 1}` },
			body: data.subarray(offset),
		});
		expect(put.status).toBe(201);
		const back = await http(`${server.url}/v2/${repo}/blobs/${sha256(data)}`);
		expect(back.body.equals(data)).toBe(true);
	});

	for (const [label, rule] of [
		["the move", { op: "move", effect: { type: "error-after" } }],
		["the link", { op: "putContent", path: /_layers/, effect: { type: "error" } }],
	] as const) {
		it(`a failure between the data move and the link (at ${label}): nothing half-visible, the retried PUT links it`, async () => {
			const repo = `faults/commit-${label.slice(4)}`;
			const data = randomBytes(300_000);
			const location = await startUpload(repo);
			const patch = await http(`${server.url}${location}`, { method: "PATCH", body: data });
			expect(patch.status).toBe(202);
			faults.inject(rule);
			expectUnavailable(
				await http(`${server.url}${location}?digest=${sha256(data)}`, { method: "PUT" }),
			);
			// Not linked: the repository does not claim a blob it has not finished.
			expect((await http(`${server.url}/v2/${repo}/blobs/${sha256(data)}`)).status).toBe(404);
			const report = await inspectStore(dir);
			expect(report.corrupt).toEqual([]);
			const retry = await http(`${server.url}${location}?digest=${sha256(data)}`, {
				method: "PUT",
			});
			expect(retry.status).toBe(201);
			const back = await http(`${server.url}/v2/${repo}/blobs/${sha256(data)}`);
			expect(back.body.equals(data)).toBe(true);
		});
	}
});

it("random faults on every backend call: clients that retry on 503 push everything intact", async () => {
	faults.inject({
		op: ["getContent", "putContent", "reader", "writer", "stat", "list", "move", "delete"],
		times: Number.POSITIVE_INFINITY,
		probability: 0.05,
		effect: { type: "error" },
	});
	faults.inject({
		op: ["writer.write", "writer.close", "writer.commit"],
		times: Number.POSITIVE_INFINITY,
		probability: 0.03,
		effect: { type: "short-write" },
	});
	faults.inject({
		op: ["move", "putContent"],
		times: Number.POSITIVE_INFINITY,
		probability: 0.03,
		effect: { type: "error-after" },
	});
	// Any answer but 2xx, 416 (resume) and 503 fails the client: a fault is never the client's.
	const client = new OciClient({ base: () => server.url, retries: 200 });
	const pushed: { repo: string; digest: string; data: Buffer }[] = [];
	for (let i = 0; i < 6; i++) {
		const repo = `faults/random${i % 2}`;
		const config = Buffer.from(JSON.stringify({ i }));
		const layers = [randomBytes(150_000 + i * 10_000), randomBytes(20_000)];
		for (const data of [config, ...layers]) {
			const digest = await client.pushBlob(repo, data, { chunks: [64 * 1024], lastInPut: 1000 });
			pushed.push({ repo, digest, data });
		}
		const image = imageManifest(config, layers);
		await client.pushManifest(repo, `v${i}`, image.bytes, image.mediaType);
	}
	expect(faults.injected.length).toBeGreaterThan(10);
	expect(client.stats.retries).toBeGreaterThan(0);
	faults.clear();
	for (const p of pushed) {
		expect((await client.getBlob(p.repo, p.digest)).equals(p.data)).toBe(true);
	}
	const report = await inspectStore(dir);
	expect(report.corrupt).toEqual([]);
	expect(report.badLinks).toEqual([]);
});
