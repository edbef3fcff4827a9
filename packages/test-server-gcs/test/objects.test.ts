import { describe, expect, it } from "vitest";
import { crc32cUpdate } from "../src/crc32c.js";
import {
	BUCKET,
	bytes,
	crc32c,
	MiB,
	md5,
	rejection,
	statusOf,
	uniqueName,
	useServer,
} from "./helpers.js";

const f = useServer({ maxBytesRewrittenPerCall: MiB });
const bucket = () => f.storage.bucket(BUCKET);

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
	const parts: Buffer[] = [];
	for await (const c of stream) parts.push(c as Buffer);
	return Buffer.concat(parts);
}

describe("checksums", () => {
	it("computes CRC32C (Castagnoli) like GCS", () => {
		expect(crc32cUpdate(0, Buffer.from("123456789")).toString(16)).toBe("e3069283");
		// Incremental updates equal one pass.
		const data = bytes(100_003);
		expect(crc32cUpdate(crc32cUpdate(0, data.subarray(0, 7)), data.subarray(7))).toBe(
			crc32cUpdate(0, data),
		);
	});
});

describe("buckets", () => {
	it("get, insert, and 404 for a missing bucket", async () => {
		const [meta] = await bucket().getMetadata();
		expect(meta.name).toBe(BUCKET);
		await f.storage.createBucket("made-by-test");
		expect((await f.storage.bucket("made-by-test").exists())[0]).toBe(true);
		expect(statusOf(await rejection(f.storage.bucket("no-such-bucket").getFiles()))).toBe(404);
		expect(
			statusOf(
				await rejection(
					f.storage.bucket("no-such-bucket").file("x").save("x", { resumable: false }),
				),
			),
		).toBe(404);
	});
});

describe("objects.insert", () => {
	it("multipart upload (the SDK's simple upload) stores content, checksums and type", async () => {
		const data = bytes(300_001);
		const file = bucket().file(uniqueName("multi/x"));
		await file.save(data, { resumable: false, metadata: { contentType: "application/x-test" } });
		const [meta] = await file.getMetadata();
		expect(meta.size).toBe(String(data.length));
		expect(meta.md5Hash).toBe(md5(data));
		expect(meta.crc32c).toBe(crc32c(data));
		expect(meta.contentType).toBe("application/x-test");
		expect(Number(meta.generation)).toBeGreaterThan(0);
		expect(meta.metageneration).toBe("1");
		// The SDK validates the download's CRC32C against x-goog-hash.
		const [back] = await file.download();
		expect(back.equals(data)).toBe(true);
	});

	it("media upload (uploadType=media)", async () => {
		const name = uniqueName("media");
		const data = bytes(1234, 7);
		const res = await fetch(
			`${f.server.url}/upload/storage/v1/b/${BUCKET}/o?uploadType=media&name=${name}`,
			{ method: "POST", body: data, headers: { "content-type": "text/plain" } },
		);
		expect(res.status).toBe(200);
		const meta = (await res.json()) as Record<string, string>;
		expect(meta.name).toBe(name);
		expect(meta.size).toBe("1234");
		expect(meta.contentType).toBe("text/plain");
		expect((await bucket().file(name).download())[0].equals(data)).toBe(true);
	});

	it("refuses content whose declared MD5 does not match", async () => {
		const file = bucket().file(uniqueName("md5"));
		const err = await rejection(
			file.save(Buffer.from("actual"), {
				resumable: false,
				validation: false,
				metadata: { md5Hash: md5(Buffer.from("something else")) },
			}),
		);
		expect(statusOf(err)).toBe(400);
		expect((await file.exists())[0]).toBe(false);
	});

	it("replaces an object with a new generation", async () => {
		const file = bucket().file(uniqueName("gen"));
		await file.save("one", { resumable: false });
		const [a] = await file.getMetadata();
		await file.save("two", { resumable: false });
		const [b] = await file.getMetadata();
		expect(BigInt(b.generation as string)).toBeGreaterThan(BigInt(a.generation as string));
		expect((await file.download())[0].toString()).toBe("two");
	});
});

describe("objects.get", () => {
	it("serves ranges: 206 for a satisfiable one, 416 past the end, suffix ranges", async () => {
		const data = bytes(10_000, 3);
		const name = uniqueName("range");
		await bucket().file(name).save(data, { resumable: false });
		const part = await readAll(bucket().file(name).createReadStream({ start: 100, end: 199 }));
		expect(part.equals(data.subarray(100, 200))).toBe(true);
		const tail = await readAll(bucket().file(name).createReadStream({ start: 9_990 }));
		expect(tail.equals(data.subarray(9_990))).toBe(true);

		const url = `${f.server.url}/storage/v1/b/${BUCKET}/o/${name}?alt=media`;
		const r206 = await fetch(url, { headers: { range: "bytes=-10" } });
		expect(r206.status).toBe(206);
		expect(r206.headers.get("content-range")).toBe("bytes 9990-9999/10000");
		expect(Buffer.from(await r206.arrayBuffer()).equals(data.subarray(9_990))).toBe(true);
		const r416 = await fetch(url, { headers: { range: "bytes=10000-" } });
		expect(r416.status).toBe(416);
		expect(r416.headers.get("content-range")).toBe("bytes */10000");
		await r416.arrayBuffer();
		// The download endpoint some SDK versions use.
		const dl = await fetch(`${f.server.url}/download/storage/v1/b/${BUCKET}/o/${name}?alt=media`);
		expect(dl.status).toBe(200);
		expect(dl.headers.get("x-goog-hash")).toBe(`crc32c=${crc32c(data)},md5=${md5(data)}`);
		expect(Buffer.from(await dl.arrayBuffer()).equals(data)).toBe(true);
	});

	it("404 in Google's JSON error format", async () => {
		const res = await fetch(`${f.server.url}/storage/v1/b/${BUCKET}/o/missing-object`);
		expect(res.status).toBe(404);
		const body = (await res.json()) as { error: { code: number; errors: { reason: string }[] } };
		expect(body.error.code).toBe(404);
		expect(body.error.errors[0]?.reason).toBe("notFound");
		expect(statusOf(await rejection(bucket().file("missing-object").download()))).toBe(404);
	});
});

describe("preconditions", () => {
	it("ifGenerationMatch: 0 means must not exist; a generation must match", async () => {
		const file = bucket().file(uniqueName("pre"));
		await file.save("first", { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } });
		const err = await rejection(
			file.save("again", { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } }),
		);
		expect(statusOf(err)).toBe(412);
		const [meta] = await file.getMetadata();
		await file.save("second", {
			resumable: false,
			preconditionOpts: { ifGenerationMatch: meta.generation as string },
		});
		expect(
			statusOf(
				await rejection(
					file.save("third", {
						resumable: false,
						preconditionOpts: { ifGenerationMatch: meta.generation as string },
					}),
				),
			),
		).toBe(412);
		expect((await file.download())[0].toString()).toBe("second");
		// Deletes and reads honour them too.
		expect(
			statusOf(await rejection(file.delete({ ifGenerationMatch: meta.generation as string }))),
		).toBe(412);
		const [now] = await file.getMetadata();
		const notModified = await fetch(
			`${f.server.url}/storage/v1/b/${BUCKET}/o/${encodeURIComponent(file.name)}?ifGenerationNotMatch=${now.generation}`,
		);
		expect(notModified.status).toBe(304);
		await file.delete({ ifGenerationMatch: now.generation as string });
		expect((await file.exists())[0]).toBe(false);
		expect(statusOf(await rejection(file.delete()))).toBe(404);
	});
});

describe("objects.list", () => {
	const base = uniqueName("list");
	const names = ["a", "b/1", "b/2", "c", "d/x/1", "d/y", "e", "b-2"].map((n) => `${base}/${n}`);

	it("prefix, delimiter, prefixes[] and page tokens", async () => {
		for (const n of names) await bucket().file(n).save("x", { resumable: false });
		const [flat] = await bucket().getFiles({ prefix: `${base}/` });
		expect(flat.map((x) => x.name)).toEqual([...names].sort());

		// One entry per page: items and prefixes both count toward maxResults.
		const seen: string[] = [];
		let query: Record<string, unknown> | null = {
			prefix: `${base}/`,
			delimiter: "/",
			maxResults: 1,
			autoPaginate: false,
		};
		let pages = 0;
		while (query) {
			const [files, next, resp] = await bucket().getFiles(query);
			const r = resp as { prefixes?: string[] };
			expect(files.length + (r.prefixes?.length ?? 0)).toBeLessThanOrEqual(1);
			seen.push(...files.map((x) => x.name), ...(r.prefixes ?? []));
			query = next as Record<string, unknown> | null;
			pages++;
		}
		expect(seen).toEqual([
			`${base}/a`,
			`${base}/b-2`,
			`${base}/b/`,
			`${base}/c`,
			`${base}/d/`,
			`${base}/e`,
		]);
		expect(pages).toBe(6);
	});

	it("startOffset, endOffset and includeTrailingDelimiter", async () => {
		const [files] = await bucket().getFiles({
			prefix: `${base}/`,
			startOffset: `${base}/b/2`,
			endOffset: `${base}/d/y`,
		});
		expect(files.map((x) => x.name)).toEqual([`${base}/b/2`, `${base}/c`, `${base}/d/x/1`]);
		await bucket().file(`${base}/t/`).save("", { resumable: false });
		const res = await fetch(
			`${f.server.url}/storage/v1/b/${BUCKET}/o?prefix=${base}/&delimiter=/&includeTrailingDelimiter=true`,
		);
		const body = (await res.json()) as { items: { name: string }[]; prefixes: string[] };
		expect(body.prefixes).toContain(`${base}/t/`);
		expect(body.items.map((x) => x.name)).toContain(`${base}/t/`);
	});

	it("an empty result has neither items nor prefixes", async () => {
		const res = await fetch(`${f.server.url}/storage/v1/b/${BUCKET}/o?prefix=nothing-here/`);
		expect(await res.json()).toEqual({ kind: "storage#objects" });
	});
});

describe("copy and rewrite", () => {
	it("copyTo copies in one call", async () => {
		const src = uniqueName("copy-src");
		const data = bytes(5000);
		await bucket().file(src).save(data, { resumable: false });
		const dst = uniqueName("copy-dst");
		const res = await fetch(
			`${f.server.url}/storage/v1/b/${BUCKET}/o/${src}/copyTo/b/${BUCKET}/o/${dst}`,
			{ method: "POST" },
		);
		expect(res.status).toBe(200);
		const meta = (await res.json()) as Record<string, string>;
		expect(meta.md5Hash).toBe(md5(data));
		expect((await bucket().file(dst).download())[0].equals(data)).toBe(true);
	});

	it("rewrite loops on rewriteToken when an object exceeds maxBytesRewrittenPerCall", async () => {
		const src = bucket().file(uniqueName("rw-src"));
		const data = bytes(3 * MiB + 77, 5);
		await src.save(data, { resumable: false });
		const before = f.server.requests.length;
		const dst = bucket().file(uniqueName("rw-dst"));
		await src.copy(dst); // the SDK follows the tokens
		const calls = f.server.requests.slice(before).filter((r) => r.op === "objects.rewrite");
		expect(calls.length).toBe(4);
		const [meta] = await dst.getMetadata();
		expect(meta.md5Hash).toBe(md5(data));
		expect(meta.crc32c).toBe(crc32c(data));
		expect((await dst.download())[0].equals(data)).toBe(true);
	});

	it("rewrite answers done, tokens, and refuses a bad token or a bad chunk size", async () => {
		const src = uniqueName("rw2-src");
		await bucket()
			.file(src)
			.save(bytes(2 * MiB + 1), { resumable: false });
		const url = (q: string) =>
			`${f.server.url}/storage/v1/b/${BUCKET}/o/${src}/rewriteTo/b/${BUCKET}/o/${src}-dst?${q}`;
		const first = (await (await fetch(url(""), { method: "POST" })).json()) as Record<
			string,
			unknown
		>;
		expect(first).toMatchObject({
			kind: "storage#rewriteResponse",
			done: false,
			totalBytesRewritten: String(MiB),
			objectSize: String(2 * MiB + 1),
		});
		expect(typeof first.rewriteToken).toBe("string");
		const bad = await fetch(url("rewriteToken=nonsense"), { method: "POST" });
		expect(bad.status).toBe(400);
		await bad.arrayBuffer();
		const badMax = await fetch(url("maxBytesRewrittenPerCall=1000"), { method: "POST" });
		expect(badMax.status).toBe(400);
		await badMax.arrayBuffer();
		let token = first.rewriteToken as string;
		for (;;) {
			const r = (await (
				await fetch(url(`rewriteToken=${encodeURIComponent(token)}`), { method: "POST" })
			).json()) as Record<string, unknown>;
			if (r.done) {
				expect((r.resource as Record<string, string>).size).toBe(String(2 * MiB + 1));
				break;
			}
			token = r.rewriteToken as string;
		}
	});

	it("rewrite of a missing source is 404; destination preconditions apply", async () => {
		const missing = bucket().file(uniqueName("nope"));
		expect(statusOf(await rejection(missing.copy(bucket().file(uniqueName("x")))))).toBe(404);
		const src = bucket().file(uniqueName("rw3"));
		await src.save("x", { resumable: false });
		const dst = bucket().file(uniqueName("rw3-dst"));
		await dst.save("y", { resumable: false });
		expect(
			statusOf(await rejection(src.copy(dst, { preconditionOpts: { ifGenerationMatch: 0 } }))),
		).toBe(412);
	});
});

describe("objects.compose", () => {
	it("concatenates up to 32 sources; a composite has a crc32c, no md5, a componentCount", async () => {
		const parts = Array.from({ length: 32 }, (_, i) => bytes(1000 + i, i));
		const names = parts.map((_, i) => `${uniqueName("cmp")}-${i}`);
		for (const [i, n] of names.entries())
			await bucket()
				.file(n)
				.save(parts[i] as Buffer, { resumable: false });
		const dest = bucket().file(uniqueName("composite"));
		await bucket().combine(names, dest);
		const all = Buffer.concat(parts);
		const [meta] = await dest.getMetadata();
		expect(meta.size).toBe(String(all.length));
		expect(meta.md5Hash).toBeUndefined();
		expect(meta.crc32c).toBe(crc32c(all));
		expect(meta.componentCount).toBe(32);
		expect((await dest.download())[0].equals(all)).toBe(true);

		// Composites of composites add up their components.
		const again = bucket().file(uniqueName("composite2"));
		await bucket().combine([dest, bucket().file(names[0] as string)], again);
		expect((await again.getMetadata())[0].componentCount).toBe(33);

		const tooMany = [...names, names[0] as string];
		expect(
			statusOf(await rejection(bucket().combine(tooMany, bucket().file(uniqueName("c"))))),
		).toBe(400);
	});

	it("missing sources are 404; source generations and destination preconditions are checked", async () => {
		const a = bucket().file(uniqueName("cmp-a"));
		await a.save("aaa", { resumable: false });
		const [meta] = await a.getMetadata();
		const dest = uniqueName("cmp-dest");
		const url = `${f.server.url}/storage/v1/b/${BUCKET}/o/${dest}/compose`;
		const post = (body: unknown, q = "") =>
			fetch(`${url}${q}`, {
				method: "POST",
				body: JSON.stringify(body),
				headers: { "content-type": "application/json" },
			});
		const missing = await post({ sourceObjects: [{ name: a.name }, { name: "no-such" }] });
		expect(missing.status).toBe(404);
		await missing.arrayBuffer();
		const wrongGen = await post({ sourceObjects: [{ name: a.name, generation: "1" }] });
		expect(wrongGen.status).toBe(404);
		await wrongGen.arrayBuffer();
		const wrongPre = await post({
			sourceObjects: [{ name: a.name, objectPreconditions: { ifGenerationMatch: "1" } }],
		});
		expect(wrongPre.status).toBe(412);
		await wrongPre.arrayBuffer();
		const ok = await post(
			{ sourceObjects: [{ name: a.name, generation: meta.generation }] },
			"?ifGenerationMatch=0",
		);
		expect(ok.status).toBe(200);
		await ok.arrayBuffer();
		const exists = await post({ sourceObjects: [{ name: a.name }] }, "?ifGenerationMatch=0");
		expect(exists.status).toBe(412);
		await exists.arrayBuffer();
		const none = await post({ sourceObjects: [] });
		expect(none.status).toBe(400);
		await none.arrayBuffer();
	});
});

describe("unknown routes", () => {
	it("are answered 501 and recorded (tests assert none happen)", async () => {
		const before = f.server.unknownRoutes.length;
		const res = await fetch(`${f.server.url}/storage/v1/projects/x/hmacKeys`);
		expect(res.status).toBe(501);
		await res.arrayBuffer();
		expect(f.server.unknownRoutes.length).toBe(before + 1);
		// Forget it, so the file's own check stays meaningful.
		(f.server.unknownRoutes as string[]).pop();
	});
});

describe("listing at scale", () => {
	it("pages through more than 1000 objects (the page size cap)", async () => {
		const base = uniqueName("many");
		const names = Array.from({ length: 1205 }, (_, i) => `${base}/${String(i).padStart(5, "0")}`);
		const chunks = 25;
		for (let i = 0; i < names.length; i += chunks) {
			await Promise.all(
				names.slice(i, i + chunks).map((n) => bucket().file(n).save("x", { resumable: false })),
			);
		}
		const [one, next] = await bucket().getFiles({
			prefix: `${base}/`,
			autoPaginate: false,
			maxResults: 5000,
		});
		expect(one.length).toBe(1000);
		expect(next).toBeTruthy();
		const [all] = await bucket().getFiles({ prefix: `${base}/` });
		expect(all.map((x) => x.name)).toEqual(names);
	});
});
