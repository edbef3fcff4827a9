/**
 * Graceful shutdown under load: SIGTERM while uploads are in flight. Requests that can finish
 * within `http.draintimeout` finish; the others are cut at the deadline. After a restart every
 * upload is resumable at the offset the registry reports, or cleanly gone, and finishes with
 * the right digest.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { OciClient, rangeEnd, sha256 } from "./support/oci-client.js";
import { type Replica, startReplica } from "./support/replicas.js";
import { inspectStore } from "./support/store-check.js";

let dir: string;
let replica: Replica;

beforeAll(async () => {
	dir = await mkdtemp(join(tmpdir(), "stowage-shutdown-"));
	replica = await startReplica({ dir, root: join(dir, "store"), drainTimeout: "1s" });
});
afterAll(async () => {
	await replica.stop("SIGKILL");
	await rm(dir, { recursive: true, force: true });
});

async function* trickle(data: Buffer, piece: number, pause: number): AsyncGenerator<Buffer> {
	for (let at = 0; at < data.length; at += piece) {
		yield data.subarray(at, at + piece);
		await sleep(pause);
	}
}

interface Upload {
	data: Buffer;
	location: string;
	/** What the in-flight request got: a status, or the error that cut it. */
	outcome?: Promise<number | string>;
}

function send(
	method: string,
	path: string,
	body: Buffer | AsyncIterable<Buffer>,
	headers: Record<string, string>,
): Promise<number | string> {
	const payload = Buffer.isBuffer(body) ? body : Readable.from(body);
	return request(`${replica.url}${path}`, {
		method: method as "PATCH",
		headers,
		body: payload,
	}).then(
		async (res) => {
			await res.body.dump();
			return res.statusCode;
		},
		(err: Error) => (err as { code?: string }).code ?? err.message,
	);
}

it("SIGTERM with uploads in flight: each is resumable at its reported offset or cleanly gone", async () => {
	const uploads: Upload[] = [];
	for (let i = 0; i < 6; i++) {
		const res = await request(`${replica.url}/v2/drain/u${i}/blobs/uploads/`, { method: "POST" });
		await res.body.dump();
		uploads.push({
			data: randomBytes(i < 2 ? 200_000 : 1024 * 1024),
			location: res.headers.location as string,
		});
	}
	const [quick1, quick2, slow1, slow2, committing] = uploads as [
		Upload,
		Upload,
		Upload,
		Upload,
		Upload,
	];
	for (const u of [quick1, quick2]) {
		u.outcome = send("PATCH", u.location, u.data, {
			"content-range": `0-${u.data.length - 1}`,
			"content-length": String(u.data.length),
		});
	}
	for (const u of [slow1, slow2]) {
		u.outcome = send("PATCH", u.location, trickle(u.data, 32 * 1024, 40), {
			"content-range": `0-${u.data.length - 1}`,
			"content-length": String(u.data.length),
		});
	}
	committing.outcome = send(
		"PUT",
		`${committing.location}?digest=${sha256(committing.data)}`,
		trickle(committing.data, 16 * 1024, 40),
		{
			"content-range": `0-${committing.data.length - 1}`,
			"content-length": String(committing.data.length),
		},
	);
	await sleep(200);
	const stopping = Date.now();
	await replica.stop("SIGTERM").then((code) => expect(code).toBe(0));
	// Drained within http.draintimeout (1 s) and the exit that follows.
	expect(Date.now() - stopping).toBeLessThan(4000);
	const outcomes = await Promise.all(uploads.map((u) => u.outcome ?? "not sent"));
	// Requests that could finish did; the trickled ones were cut at the deadline.
	expect(outcomes.slice(0, 2)).toEqual([202, 202]);
	expect(outcomes.slice(2, 5).every((o) => o !== 202 && o !== 201)).toBe(true);

	await replica.start();
	const client = new OciClient({ base: () => replica.url });
	for (const [i, u] of uploads.entries()) {
		const status = await request(`${replica.url}${u.location}`);
		await status.body.dump();
		const repo = `drain/u${i}`;
		if (status.statusCode === 404) {
			// Gone only if it was committed: then the blob is there.
			expect(await client.blobExists(repo, sha256(u.data))).toBe(true);
			continue;
		}
		expect(status.statusCode).toBe(204);
		const offset = rangeEnd(status.headers.range as string);
		expect(offset).toBeLessThanOrEqual(u.data.length);
		const put = await request(`${replica.url}${u.location}?digest=${sha256(u.data)}`, {
			method: "PUT",
			...(offset < u.data.length
				? {
						headers: { "content-range": `${offset}-${u.data.length - 1}` },
						body: u.data.subarray(offset),
					}
				: {}),
		});
		await put.body.dump();
		expect(put.statusCode).toBe(201);
		expect((await client.getBlob(repo, sha256(u.data))).equals(u.data)).toBe(true);
	}
	const report = await inspectStore(join(dir, "store"));
	expect(report.corrupt).toEqual([]);
	expect(report.badLinks).toEqual([]);
	// A committed upload's leftovers are removed just after its response.
	await vi.waitFor(async () =>
		expect((await inspectStore(join(dir, "store"))).uploads).toEqual([]),
	);
});

it("a request arriving while the registry drains is refused, not left hanging", async () => {
	const res = await request(`${replica.url}/v2/drain/late/blobs/uploads/`, { method: "POST" });
	await res.body.dump();
	const location = res.headers.location as string;
	const data = randomBytes(512 * 1024);
	const inFlight = send("PATCH", location, trickle(data, 16 * 1024, 40), {
		"content-range": `0-${data.length - 1}`,
		"content-length": String(data.length),
	});
	await sleep(150);
	const stopped = replica.stop("SIGTERM");
	await sleep(100);
	const late = await request(`${replica.url}/v2/`, { headersTimeout: 3000 }).then(
		async (r) => {
			await r.body.dump();
			return r.statusCode;
		},
		(err: Error) => (err as { code?: string }).code ?? err.message,
	);
	expect([503, "ECONNREFUSED", "UND_ERR_SOCKET", "ECONNRESET"]).toContain(late);
	await stopped;
	await inFlight;
	await replica.start();
	const status = await request(`${replica.url}${location}`);
	await status.body.dump();
	expect(status.statusCode).toBe(204);
});
