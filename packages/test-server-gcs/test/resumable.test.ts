import { request } from "node:http";
import { describe, expect, it } from "vitest";
import { startGcsTestServer } from "../src/index.js";
import {
	BUCKET,
	bytes,
	crc32c,
	KiB,
	MiB,
	md5,
	rejection,
	statusOf,
	uniqueName,
	useServer,
} from "./helpers.js";

const f = useServer();
const CHUNK = 256 * KiB;

/** Start a session the way the JSON API documents it; returns the session URI. */
async function start(
	url: string,
	name: string,
	opts: { query?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<Response> {
	return fetch(
		`${url}/upload/storage/v1/b/${BUCKET}/o?uploadType=resumable&name=${name}${opts.query ?? ""}`,
		{
			method: "POST",
			headers: { "content-type": "application/json", ...opts.headers },
			body: JSON.stringify(opts.body ?? {}),
		},
	);
}

async function session(
	name: string,
	opts?: Parameters<typeof start>[2],
	url = f.server.url,
): Promise<string> {
	const res = await start(url, name, opts);
	expect(res.status).toBe(200);
	await res.arrayBuffer();
	const location = res.headers.get("location");
	expect(location).toMatch(/upload_id=/);
	return location as string;
}

async function put(uri: string, range: string | undefined, body?: Uint8Array): Promise<Response> {
	const res = await fetch(uri, {
		method: "PUT",
		headers: range === undefined ? {} : { "content-range": range },
		...(body && { body }),
		redirect: "manual",
	});
	return res;
}

async function expect308(res: Response, persisted: number): Promise<void> {
	expect(res.status).toBe(308);
	expect(res.headers.get("range")).toBe(persisted === 0 ? null : `bytes=0-${persisted - 1}`);
	await res.arrayBuffer();
}

describe("resumable uploads through the SDK", () => {
	it("uploads in 256 KiB chunks, odd sizes included", async () => {
		for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * MiB + 123]) {
			const data = bytes(size, size);
			const file = f.storage.bucket(BUCKET).file(uniqueName("sdk-resumable"));
			await file.save(data, { resumable: true, chunkSize: CHUNK });
			const [meta] = await file.getMetadata();
			expect(meta.size).toBe(String(size));
			expect(meta.md5Hash).toBe(md5(data));
			expect((await file.download())[0].equals(data)).toBe(true);
		}
	});

	it("uploads a stream without a chunk size (one request)", async () => {
		const data = bytes(700 * KiB);
		const file = f.storage.bucket(BUCKET).file(uniqueName("sdk-single"));
		await file.save(data, { resumable: true });
		expect((await file.download())[0].equals(data)).toBe(true);
	});
});

describe("the resumable protocol", () => {
	it("308 with the persisted Range, status queries, and a final chunk", async () => {
		const data = bytes(2 * CHUNK + 1000);
		const uri = await session(uniqueName("proto"));
		await expect308(await put(uri, "bytes */*"), 0);
		await expect308(await put(uri, `bytes 0-${CHUNK - 1}/*`, data.subarray(0, CHUNK)), CHUNK);
		await expect308(await put(uri, "bytes */*"), CHUNK);
		await expect308(
			await put(
				uri,
				`bytes ${CHUNK}-${2 * CHUNK - 1}/${data.length}`,
				data.subarray(CHUNK, 2 * CHUNK),
			),
			2 * CHUNK,
		);
		const done = await put(
			uri,
			`bytes ${2 * CHUNK}-${data.length - 1}/${data.length}`,
			data.subarray(2 * CHUNK),
		);
		expect(done.status).toBe(200);
		const meta = (await done.json()) as Record<string, string>;
		expect(meta.size).toBe(String(data.length));
		expect(meta.md5Hash).toBe(md5(data));
		expect(meta.crc32c).toBe(crc32c(data));
		// A finished session answers every later request with the object.
		const again = await put(uri, "bytes */*");
		expect(again.status).toBe(200);
		expect(((await again.json()) as Record<string, string>).generation).toBe(meta.generation);
	});

	it("refuses a non-final chunk that is not a multiple of 256 KiB, and persists nothing", async () => {
		const uri = await session(uniqueName("rule"));
		const res = await put(uri, `bytes 0-${CHUNK}/*`, bytes(CHUNK + 1));
		expect(res.status).toBe(400);
		expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/262144/);
		await expect308(await put(uri, "bytes */*"), 0);
		// Also when the total is known but the chunk is not the last one.
		const res2 = await put(uri, `bytes 0-999/5000`, bytes(1000));
		expect(res2.status).toBe(400);
		await res2.arrayBuffer();
	});

	it("refuses a chunk that does not start at the persisted size", async () => {
		const uri = await session(uniqueName("offset"));
		await expect308(await put(uri, `bytes 0-${CHUNK - 1}/*`, bytes(CHUNK)), CHUNK);
		for (const first of [0, 2 * CHUNK]) {
			const res = await put(uri, `bytes ${first}-${first + CHUNK - 1}/*`, bytes(CHUNK));
			expect(res.status).toBe(400);
			await res.arrayBuffer();
		}
		await expect308(await put(uri, "bytes */*"), CHUNK);
	});

	it("finalizes with bytes */total after a whole-chunk upload, and empty objects with bytes */0", async () => {
		const data = bytes(CHUNK);
		const uri = await session(uniqueName("star-total"));
		await expect308(await put(uri, `bytes 0-${CHUNK - 1}/*`, data), CHUNK);
		const done = await put(uri, `bytes */${CHUNK}`);
		expect(done.status).toBe(200);
		expect(((await done.json()) as Record<string, string>).size).toBe(String(CHUNK));

		const empty = await session(uniqueName("empty"));
		const e = await put(empty, "bytes */0");
		expect(e.status).toBe(200);
		expect(((await e.json()) as Record<string, string>).size).toBe("0");
	});

	it("accepts a whole upload in one PUT without Content-Range", async () => {
		const data = bytes(5000);
		const uri = await session(uniqueName("single"));
		const res = await put(uri, undefined, data);
		expect(res.status).toBe(200);
		expect(((await res.json()) as Record<string, string>).md5Hash).toBe(md5(data));
	});

	it("checks X-Upload-Content-Length and the declared total", async () => {
		const uri = await session(uniqueName("declared"), {
			headers: { "x-upload-content-length": "10" },
		});
		const res = await put(uri, "bytes 0-4/5", bytes(5));
		expect(res.status).toBe(400);
		await res.arrayBuffer();
		const ok = await put(uri, "bytes 0-9/10", bytes(10));
		expect(ok.status).toBe(200);
		await ok.arrayBuffer();
	});

	it("checks generation preconditions at the start and again at finalization", async () => {
		const name = uniqueName("pre");
		await f.storage.bucket(BUCKET).file(name).save("exists", { resumable: false });
		const refused = await start(f.server.url, name, { query: "&ifGenerationMatch=0" });
		expect(refused.status).toBe(412);
		await refused.arrayBuffer();

		const later = uniqueName("pre-later");
		const uri = await session(later, { query: "&ifGenerationMatch=0" });
		await expect308(await put(uri, `bytes 0-${CHUNK - 1}/*`, bytes(CHUNK)), CHUNK);
		await f.storage.bucket(BUCKET).file(later).save("raced", { resumable: false });
		const res = await put(uri, `bytes */${CHUNK}`);
		expect(res.status).toBe(412);
		await res.arrayBuffer();
		expect((await f.storage.bucket(BUCKET).file(later).download())[0].toString()).toBe("raced");
	});

	it("cancel answers 499; the session is gone afterwards", async () => {
		const uri = await session(uniqueName("cancel"));
		const res = await fetch(uri, { method: "DELETE" });
		expect(res.status).toBe(499);
		await res.arrayBuffer();
		const after = await put(uri, "bytes */*");
		expect(after.status).toBe(404);
		await after.arrayBuffer();
	});

	it("cancelling a finished session keeps its object", async () => {
		const name = uniqueName("cancel-done");
		const uri = await session(name);
		const done = await put(uri, "bytes 0-2/3", Buffer.from("abc"));
		expect(done.status).toBe(200);
		await done.arrayBuffer();
		await (await fetch(uri, { method: "DELETE" })).arrayBuffer();
		expect((await f.storage.bucket(BUCKET).file(name).download())[0].toString()).toBe("abc");
	});

	it("an interrupted chunk persists nothing", async () => {
		const uri = new URL(await session(uniqueName("interrupted")));
		await new Promise<void>((resolve) => {
			const req = request(uri, {
				method: "PUT",
				headers: { "content-range": `bytes 0-${CHUNK - 1}/*`, "content-length": CHUNK },
			});
			req.on("error", () => resolve());
			req.write(bytes(CHUNK / 2));
			setTimeout(() => {
				req.destroy();
				resolve();
			}, 50);
		});
		await new Promise((r) => setTimeout(r, 50));
		await expect308(await put(uri.href, "bytes */*"), 0);
	});

	it("a fault can make the server keep only part of a chunk; the 308 says how much", async () => {
		const data = bytes(4 * CHUNK);
		const uri = await session(uniqueName("keep"));
		f.server.faults.inject({ op: "resumable.put", keep: CHUNK + 5 });
		await expect308(await put(uri, `bytes 0-${4 * CHUNK - 1}/*`, data), CHUNK);
		const done = await put(
			uri,
			`bytes ${CHUNK}-${4 * CHUNK - 1}/${4 * CHUNK}`,
			data.subarray(CHUNK),
		);
		expect(done.status).toBe(200);
		expect(((await done.json()) as Record<string, string>).md5Hash).toBe(md5(data));
	});

	it("expired sessions answer 410 (or 404 when configured), forever", async () => {
		for (const status of [410, 404] as const) {
			const server = await startGcsTestServer({
				buckets: [BUCKET],
				sessionTtlMs: 150,
				expiredSessionStatus: status,
			});
			try {
				const uri = await session(uniqueName("ttl"), {}, server.url);
				await expect308(await put(uri, `bytes 0-${CHUNK - 1}/*`, bytes(CHUNK)), CHUNK);
				await new Promise((r) => setTimeout(r, 250));
				for (let i = 0; i < 2; i++) {
					const res = await put(uri, "bytes */*");
					expect(res.status).toBe(status);
					await res.arrayBuffer();
				}
			} finally {
				await server.close();
			}
		}
		// And on demand, for tests that cannot wait.
		const uri = await session(uniqueName("expire-now"));
		f.server.faults.expireAllSessions();
		const res = await put(uri, "bytes */*");
		expect(res.status).toBe(410);
		await res.arrayBuffer();
	});

	it("the SDK resumes a session from its URI at the persisted offset", async () => {
		const data = bytes(3 * CHUNK + 10);
		const name = uniqueName("sdk-resume");
		const uri = await session(name);
		await expect308(await put(uri, `bytes 0-${CHUNK - 1}/*`, data.subarray(0, CHUNK)), CHUNK);
		const file = f.storage.bucket(BUCKET).file(name);
		// The SDK asks the session where it stands, then sends the rest.
		await new Promise<void>((resolve, reject) => {
			const w = file.createWriteStream({
				uri,
				resumable: true,
				chunkSize: CHUNK,
				validation: false,
			});
			w.on("error", reject).on("finish", () => resolve());
			w.end(data);
		});
		expect((await file.download())[0].equals(data)).toBe(true);
	});

	it("a missing upload_id or an unknown session is an error", async () => {
		const res = await put(
			`${f.server.url}/upload/storage/v1/b/${BUCKET}/o?uploadType=resumable&upload_id=nope`,
			"bytes */*",
		);
		expect(res.status).toBe(404);
		await res.arrayBuffer();
		expect(
			statusOf(
				await rejection(
					f.storage
						.bucket(BUCKET)
						.file("x")
						.createResumableUpload({
							metadata: { contentType: "a/b" },
							preconditionOpts: { ifGenerationMatch: 12 },
						}),
				),
			),
		).toBe(412);
	});
});

describe("checksums on the final request", () => {
	it("an X-Goog-Hash that does not match the object refuses the upload", async () => {
		const data = bytes(1000);
		const uri = await session(uniqueName("hash"));
		const bad = await fetch(uri, {
			method: "PUT",
			headers: { "content-range": `bytes 0-999/1000`, "x-goog-hash": `md5=${md5(bytes(1000, 9))}` },
			body: data,
		});
		expect(bad.status).toBe(400);
		await bad.arrayBuffer();
		const good = await fetch(uri, {
			method: "PUT",
			headers: {
				"content-range": `bytes */1000`,
				"x-goog-hash": `crc32c=${crc32c(data)},md5=${md5(data)}`,
			},
		});
		// The bytes of the refused request were persisted (it was a well-formed final chunk).
		expect(good.status).toBe(200);
		await good.arrayBuffer();
	});
});
