/**
 * Hostile input against a running registry (the built CLI over the filesystem driver): random
 * and malformed requests from fast-check, then the invariants: no 5xx for a client's mistake, no
 * crash, no file outside the storage root, bounded memory, the stored images unchanged.
 * STOWAGE_FUZZ_RUNS sets the number of random requests (default 300).
 */
import { createHash, randomBytes } from "node:crypto";
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostileRequest } from "./support/hostile.js";
import { imageManifest, OciClient, rangeEnd } from "./support/oci-client.js";
import { rawExchange, rawRequest } from "./support/raw-http.js";
import { type Replica, rssOf, startReplica } from "./support/replicas.js";
import { inspectStore } from "./support/store-check.js";

const RUNS = Number(process.env.STOWAGE_FUZZ_RUNS ?? 300);

let dir: string;
let store: string;
let replica: Replica;
let client: OciClient;
let baselineRss: number;
const seeded = new Map<string, string>();
const known: { digest: string; size: number }[] = [];
const uploads: string[] = [];
const statuses = new Map<string, number>();

/** Every file below `root`, relative, with its sha256; upload directories left out. */
async function snapshot(root: string): Promise<Map<string, string>> {
	const files = new Map<string, string>();
	for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
		if (!entry.isFile()) continue;
		const path = join(entry.parentPath, entry.name);
		if (path.includes("/_uploads/")) continue;
		files.set(
			relative(root, path),
			createHash("sha256")
				.update(await readFile(path))
				.digest("hex"),
		);
	}
	return files;
}

beforeAll(async () => {
	dir = await mkdtemp(join(tmpdir(), "stowage-hostile-"));
	store = join(dir, "store");
	await mkdir(join(dir, "outside"));
	await writeFile(join(dir, "outside", "canary"), "untouched");
	replica = await startReplica({ dir: join(dir, "config"), root: store });
	client = new OciClient({ base: () => replica.url });
	const config = Buffer.from('{"os":"linux"}');
	const layers = [randomBytes(100_000), randomBytes(5000)];
	for (const data of [config, ...layers]) {
		known.push({ digest: await client.pushBlob("seed/app", data), size: data.length });
	}
	const image = imageManifest(config, layers);
	await client.pushManifest("seed/app", "v1", image.bytes, image.mediaType);
	known.push({ digest: image.digest, size: image.bytes.length });
	// Open uploads, so that fuzzed requests hit real upload ids too.
	for (let i = 0; i < 4; i++) {
		const res = await client.send("POST", "/v2/fuzz/open/blobs/uploads/");
		uploads.push(res.headers["docker-upload-uuid"] as string);
	}
	for (const [path, hash] of await snapshot(store)) seeded.set(path, hash);
	baselineRss = rssOf(replica.pid());
});

afterAll(async () => {
	await replica.stop();
	await rm(dir, { recursive: true, force: true });
});

describe("random hostile requests", () => {
	it(`${RUNS} requests: no 5xx, and the registry keeps answering`, async () => {
		await fc.assert(
			fc.asyncProperty(
				hostileRequest(known, uploads, "/v2/fuzz/open/blobs/uploads"),
				async (req) => {
					const result = await rawRequest(replica.port, req, 10_000);
					const key = String(result.status ?? "no answer");
					statuses.set(key, (statuses.get(key) ?? 0) + 1);
					if (result.status !== undefined && result.status >= 500) {
						throw new Error(`${req.label} → ${result.response.toString("latin1").slice(0, 400)}`);
					}
					if (!replica.running()) throw new Error(`the registry died on ${req.label}`);
				},
			),
			{ numRuns: RUNS },
		);
		console.log("status counts", Object.fromEntries([...statuses].sort()));
		expect(statuses.size).toBeGreaterThan(3);
	}, 180_000);
});

describe("specific abuses", () => {
	it("a manifest declared over the 4 MiB limit is refused before its body is read", async () => {
		const started = Date.now();
		const result = await rawExchange(
			replica.port,
			Buffer.from(
				"PUT /v2/fuzz/big/manifests/v1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: 1073741824\r\n\r\n{",
			),
		);
		expect(result.status).toBe(413);
		expect(Date.now() - started).toBeLessThan(3000);
	});

	it("a chunked manifest that grows past the limit is cut off at the limit", async () => {
		const piece = Buffer.alloc(256 * 1024, 0x20);
		const chunks = Array.from({ length: 24 }, () =>
			Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from("\r\n")]),
		);
		const result = await rawExchange(
			replica.port,
			Buffer.concat([
				Buffer.from(
					"PUT /v2/fuzz/big/manifests/v2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
				),
				...chunks,
				Buffer.from("0\r\n\r\n"),
			]),
		);
		expect(result.status).toBe(413);
	});

	it("a PATCH whose body stops short of its Content-Length keeps what arrived, resumably", async () => {
		const res = await client.send("POST", "/v2/fuzz/short/blobs/uploads/");
		const location = res.headers.location as string;
		const sent = randomBytes(70_000);
		await rawRequest(replica.port, {
			method: "PATCH",
			target: location,
			headers: [
				["Content-Length", "100000"],
				["Content-Range", "0-99999"],
			],
			body: sent,
			end: true,
		});
		const status = await client.send("GET", location);
		expect(status.status).toBe(204);
		expect(rangeEnd(status.headers.range)).toBe(sent.length);
	});

	it("a Content-Range that disagrees with Content-Length is a 400, and nothing is written", async () => {
		const res = await client.send("POST", "/v2/fuzz/mismatch/blobs/uploads/");
		const location = res.headers.location as string;
		const result = await rawRequest(replica.port, {
			method: "PATCH",
			target: location,
			headers: [
				["Content-Length", "10"],
				["Content-Range", "0-19"],
			],
			body: Buffer.alloc(10),
		});
		expect(result.status).toBe(400);
		expect((await client.send("GET", location)).headers.range).toBe("0-0");
	});

	it("a 64 MiB streamed PATCH does not grow the process by its size", async () => {
		const res = await client.send("POST", "/v2/fuzz/stream/blobs/uploads/");
		const data = randomBytes(64 * 1024 * 1024);
		const before = rssOf(replica.pid());
		const patch = await client.send("PATCH", res.headers.location as string, { body: data });
		expect(patch.status).toBe(202);
		expect(rssOf(replica.pid()) - before).toBeLessThan(48 * 1024 * 1024);
	});
});

describe("after all of it", () => {
	it("the process is alive and its memory bounded", async () => {
		expect(replica.running()).toBe(true);
		expect((await client.send("GET", "/v2/")).status).toBe(200);
		const grown = rssOf(replica.pid()) - baselineRss;
		expect(grown).toBeLessThan(128 * 1024 * 1024);
	});

	it("nothing was written outside the storage root, and nothing odd inside it", async () => {
		expect((await readdir(dir)).sort()).toEqual(["config", "outside", "store"]);
		expect(await readdir(join(dir, "outside"))).toEqual(["canary"]);
		expect(await readFile(join(dir, "outside", "canary"), "utf8")).toBe("untouched");
		for (const entry of await readdir(store, { recursive: true, withFileTypes: true })) {
			expect(entry.name).toMatch(/^[A-Za-z0-9._~-]+$/);
			expect((await lstat(join(entry.parentPath, entry.name))).isSymbolicLink()).toBe(false);
		}
	});

	it("the stored image is unchanged and still pulls, and every blob matches its address", async () => {
		const now = await snapshot(store);
		for (const [path, hash] of seeded) expect(now.get(path), path).toBe(hash);
		const manifest = await client.getManifest("seed/app", "v1");
		expect(manifest.headers["docker-content-digest"]).toBe(known.at(-1)?.digest);
		for (const k of known.slice(0, -1)) {
			expect((await client.getBlob("seed/app", k.digest)).length).toBe(k.size);
		}
		const report = await inspectStore(store);
		expect(report.corrupt).toEqual([]);
		expect(report.badLinks).toEqual([]);
	});
});
