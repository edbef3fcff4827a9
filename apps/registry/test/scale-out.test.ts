/**
 * Scale-out: three registry processes (the built CLI) over one filesystem root, upload locks in
 * one Redis. Any replica continues any upload, two writers of one upload never interleave, and
 * many clients pushing one image leave one blob per digest and no upload behind.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { imageManifest, OciClient, rangeEnd, sha256 } from "./support/oci-client.js";
import { type RedisServer, redisInstalled, startRedisServer } from "./support/redis.js";
import { type Replica, startReplica } from "./support/replicas.js";
import { roundRobin as rr, slowPatch, startUpload } from "./support/scale.js";
import { inspectStore } from "./support/store-check.js";

let dir: string;
let root: string;
const haveRedis = redisInstalled("scale-out");
let redis: RedisServer | undefined;
let replicas: Replica[] = [];

beforeAll(async () => {
	dir = await mkdtemp(join(tmpdir(), "stowage-scale-"));
	root = join(dir, "store");
	redis = haveRedis ? await startRedisServer() : undefined;
	replicas = await Promise.all(
		[0, 1, 2].map((i) => startReplica({ dir: join(dir, `r${i}`), root, redis })),
	);
});

afterAll(async () => {
	await Promise.all(replicas.map((r) => r.stop()));
	await redis?.stop();
	await rm(dir, { recursive: true, force: true });
});

const roundRobin = (first = 0, log?: string[]) => rr(replicas, first, log);

describe("replicas over one filesystem root", () => {
	it("one upload spread across replicas: POST on one, PATCHes round-robin, PUT on another", async () => {
		const served: string[] = [];
		const client = new OciClient({ base: roundRobin(0, served) });
		const data = randomBytes(3 * 1024 * 1024 + 17);
		const digest = await client.pushBlob("spread/blob", data, {
			chunks: [700_000, 123_457, 1_048_576],
			lastInPut: 5000,
		});
		expect(digest).toBe(sha256(data));
		// Every replica served part of it, and the PUT went to another replica than the POST.
		expect(new Set(served).size).toBe(3);
		expect(served.at(-1)).not.toBe(served[0]);
		for (const r of replicas) {
			const back = await new OciClient({ base: () => r.url }).getBlob("spread/blob", digest);
			expect(back.equals(data)).toBe(true);
		}
	});

	it("commit trusts the digest state other replicas saved: it never reads the bytes back", async () => {
		const repo = "spread/no-reread";
		const data = randomBytes(2 * 1024 * 1024);
		const location = await startUpload(replicas[0]?.url as string, repo);
		const id = location.slice(location.lastIndexOf("/") + 1);
		const half = data.length / 2;
		for (const [i, [from, to]] of [
			[0, half],
			[half, data.length],
		].entries() as IterableIterator<[number, [number, number]]>) {
			const res = await request(`${replicas[i + 1]?.url}${location}`, {
				method: "PATCH",
				headers: { "content-range": `${from}-${to - 1}` },
				body: data.subarray(from, to),
			});
			await res.body.dump();
			expect(res.statusCode).toBe(202);
		}
		// Flip one byte of the upload on disk, behind the registry's back: a commit that re-read
		// the bytes would now refuse the digest; one that verifies from the saved state accepts it.
		const partial = join(
			root,
			"docker/registry/v2/repositories",
			repo,
			"_uploads",
			id,
			"data~partial",
		);
		const file = await open(partial, "r+");
		await file.write(Buffer.from([(data[1000] as number) ^ 0xff]), 0, 1, 1000);
		await file.close();
		const put = await request(`${replicas[0]?.url}${location}?digest=${sha256(data)}`, {
			method: "PUT",
		});
		await put.body.dump();
		expect(put.statusCode).toBe(201);
		// Take the planted blob out of the store again: the other tests check every blob.
		const hex = sha256(data).slice("sha256:".length);
		await rm(join(root, "docker/registry/v2/blobs/sha256", hex.slice(0, 2), hex), {
			recursive: true,
		});
		await rm(join(root, "docker/registry/v2/repositories", repo), { recursive: true });
	});

	it("no replica keeps upload state: a replica restarted mid-upload continues it", async () => {
		const client = new OciClient({ base: () => replicas[1]?.url as string });
		const data = randomBytes(600_000);
		const location = await startUpload(replicas[1]?.url as string, "spread/restart");
		const first = await request(`${replicas[1]?.url}${location}`, {
			method: "PATCH",
			headers: { "content-range": `0-299999` },
			body: data.subarray(0, 300_000),
		});
		await first.body.dump();
		await replicas[1]?.stop("SIGKILL");
		const status = await request(`${replicas[2]?.url}${location}`);
		expect(status.statusCode).toBe(204);
		expect(rangeEnd(status.headers.range as string)).toBe(300_000);
		await replicas[1]?.start();
		const put = await request(`${replicas[1]?.url}${location}?digest=${sha256(data)}`, {
			method: "PUT",
			headers: { "content-range": "300000-599999" },
			body: data.subarray(300_000),
		});
		await put.body.dump();
		expect(put.statusCode).toBe(201);
		expect((await client.getBlob("spread/restart", sha256(data))).equals(data)).toBe(true);
	});
});

describe.skipIf(!haveRedis)(
	"two writers of one upload through different replicas (Redis locks)",
	() => {
		it("one wins, the other gets a clean 409, the upload holds the winner's bytes", async () => {
			const [r0, r1, r2] = replicas as [Replica, Replica, Replica];
			const repo = "race/one";
			const mine = randomBytes(1024 * 1024);
			const theirs = randomBytes(1024 * 1024);
			const location = await startUpload(r0.url, repo);
			const winner = slowPatch(r1.url, location, mine);
			await sleep(150);
			const loser = await request(`${r2.url}${location}`, {
				method: "PATCH",
				headers: { "content-range": `0-${theirs.length - 1}` },
				body: theirs,
			});
			const error = (await loser.body.json()) as { errors: { code: string }[] };
			expect(loser.statusCode).toBe(409);
			expect(loser.headers["retry-after"]).toBe("1");
			expect(error.errors[0]?.code).toBe("BLOB_UPLOAD_INVALID");
			const commit = await request(`${r0.url}${location}?digest=${sha256(theirs)}`, {
				method: "PUT",
			});
			await commit.body.dump();
			expect(commit.statusCode).toBe(409);
			expect(await winner).toEqual({ status: 202, range: `0-${mine.length - 1}` });
			const put = await request(`${r2.url}${location}?digest=${sha256(mine)}`, { method: "PUT" });
			await put.body.dump();
			expect(put.statusCode).toBe(201);
			const back = await new OciClient({ base: () => r0.url }).getBlob(repo, sha256(mine));
			expect(back.equals(mine)).toBe(true);
		});

		it("racing writers, many rounds: never both accepted, never interleaved", async () => {
			const repo = "race/many";
			const outcomes = new Map<string, number>();
			for (let round = 0; round < 8; round++) {
				const a = randomBytes(256 * 1024 + round * 1000);
				const b = randomBytes(a.length);
				const location = await startUpload(replicas[round % 3]?.url as string, repo);
				const [ra, rb] = await Promise.all([
					slowPatch(replicas[(round + 1) % 3]?.url as string, location, a),
					sleep(round * 7).then(() =>
						slowPatch(replicas[(round + 2) % 3]?.url as string, location, b),
					),
				]);
				const key = [ra.status, rb.status].sort().join("+");
				outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
				// Exactly one body was taken, whole; the other was refused (409 busy, 416 too late).
				expect([ra.status, rb.status].filter((s) => s === 202)).toHaveLength(1);
				const won = ra.status === 202 ? a : b;
				const put = await request(`${replicas[round % 3]?.url}${location}?digest=${sha256(won)}`, {
					method: "PUT",
				});
				await put.body.dump();
				expect(put.statusCode).toBe(201);
			}
			expect([...outcomes.keys()].every((k) => k === "202+409" || k === "202+416")).toBe(true);
		});

		it("a replica killed while it holds a lock: the upload is free again after the lease", async () => {
			const [r0, r1, r2] = replicas as [Replica, Replica, Replica];
			const data = randomBytes(512 * 1024);
			const location = await startUpload(r0.url, "race/crash");
			const stalled = slowPatch(r1.url, location, data).catch(() => undefined);
			await sleep(150);
			await r1.stop("SIGKILL");
			await stalled;
			// The dead holder's lock answers 409 until its lease (3 s here) runs out.
			const started = Date.now();
			let offset = -1;
			for (;;) {
				const status = await request(`${r2.url}${location}`);
				await status.body.dump();
				offset = rangeEnd(status.headers.range as string);
				const res = await request(`${r2.url}${location}`, {
					method: "PATCH",
					headers: { "content-range": `${offset}-${data.length - 1}` },
					body: data.subarray(offset),
				});
				await res.body.dump();
				if (res.statusCode === 202) break;
				expect(res.statusCode).toBe(409);
				expect(Date.now() - started).toBeLessThan(10_000);
				await sleep(250);
			}
			await r1.start();
			const put = await request(`${r1.url}${location}?digest=${sha256(data)}`, { method: "PUT" });
			await put.body.dump();
			expect(put.statusCode).toBe(201);
		});
	},
);

describe.skipIf(!haveRedis)("when Redis is unreachable", () => {
	it("uploads answer 503 UNAVAILABLE with Retry-After, reads go on, and uploads resume after", async () => {
		const [r0, r1] = replicas as [Replica, Replica];
		const repo = "redis/outage";
		const data = randomBytes(200_000);
		const location = await startUpload(r0.url, repo);
		const client = new OciClient({ base: () => r1.url });
		const stored = await client.pushBlob(repo, Buffer.from("readable during the outage"));
		process.kill(redis?.pid as number, "SIGSTOP");
		try {
			const res = await request(`${r1.url}${location}`, {
				method: "PATCH",
				headers: { "content-range": `0-${data.length - 1}` },
				body: data,
			});
			const body = (await res.body.json()) as { errors: { code: string }[] };
			expect(res.statusCode).toBe(503);
			expect(res.headers["retry-after"]).toBe("1");
			expect(body.errors[0]?.code).toBe("UNAVAILABLE");
			expect(await client.blobExists(repo, stored)).toBe(true);
		} finally {
			process.kill(redis?.pid as number, "SIGCONT");
		}
		const retried = await request(`${r0.url}${location}?digest=${sha256(data)}`, {
			method: "PUT",
			headers: { "content-range": `0-${data.length - 1}` },
			body: data,
		});
		await retried.body.dump();
		expect(retried.statusCode).toBe(201);
	});
});

describe("many clients push one image through different replicas at once", () => {
	it("every push succeeds, one blob per digest, no upload left behind", async () => {
		const repo = "herd/image";
		const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", n: 1 }));
		const layers = [randomBytes(1536 * 1024), randomBytes(400_000), randomBytes(9000)];
		const image = imageManifest(config, layers);
		const clients = Array.from({ length: 8 }, (_, i) => new OciClient({ base: roundRobin(i) }));
		await Promise.all(
			clients.map(async (client, i) => {
				await client.pushBlob(repo, config, { monolithic: i % 2 === 0 });
				for (const layer of layers) {
					await client.pushBlob(repo, layer, {
						chunks: [300_000 + i * 10_000],
						lastInPut: i * 100,
					});
				}
				await client.pushManifest(repo, "latest", image.bytes, image.mediaType);
			}),
		);
		for (const r of replicas) {
			const client = new OciClient({ base: () => r.url });
			const res = await client.getManifest(repo, "latest");
			expect(res.headers["docker-content-digest"]).toBe(image.digest);
			for (const layer of layers) {
				expect((await client.getBlob(repo, sha256(layer))).equals(layer)).toBe(true);
			}
		}
		const report = await inspectStore(root);
		expect(report.corrupt).toEqual([]);
		expect(report.badLinks).toEqual([]);
		expect(report.emptyBlobDirs).toEqual([]);
		expect(report.hidden).toEqual([]);
		expect(report.uploads.filter((u) => u.includes(`/${repo}/`))).toEqual([]);
	});
});
