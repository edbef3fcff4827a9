import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "@stowage/core";
import { createFsDriver } from "@stowage/driver-fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codes, http, pushBlob, sha256, startServer, type TestServer } from "./helpers.js";

let server: TestServer;
beforeAll(async () => {
	server = await startServer();
});
afterAll(() => server.close());

async function start(base = server.url, repo = "up/load") {
	const res = await http(`${base}/v2/${repo}/blobs/uploads/`, { method: "POST" });
	expect(res.status).toBe(202);
	return { res, location: res.headers.location as string, id: res.headers["docker-upload-uuid"] };
}

async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
	for (const p of parts) yield Buffer.from(p);
}

describe("POST starts a session", () => {
	it("answers 202 with Location, Range 0-0 and Docker-Upload-UUID", async () => {
		const { res, location, id } = await start();
		expect(location).toBe(`/v2/up/load/blobs/uploads/${id}`);
		expect(res.headers.range).toBe("0-0");
		expect(res.headers["content-length"]).toBe("0");
		expect(id).toMatch(/^[0-9a-f-]{36}$/);
	});

	it("accepts the path without the trailing slash", async () => {
		const res = await http(`${server.url}/v2/up/load/blobs/uploads`, { method: "POST" });
		expect(res.status).toBe(202);
	});

	it("honours http.host in Location", async () => {
		const s = await startServer({ baseUrl: "https://registry.example.com/" });
		try {
			const { location } = await start(s.url);
			expect(location).toMatch(/^https:\/\/registry\.example\.com\/v2\/up\/load\/blobs\/uploads\//);
		} finally {
			await s.close();
		}
	});
});

describe("status, PATCH and PUT", () => {
	it("GET and HEAD status are 204 with Range", async () => {
		const { location, id } = await start();
		const res = await http(`${server.url}${location}`);
		expect(res.status).toBe(204);
		expect(res.headers.range).toBe("0-0");
		expect(res.headers["docker-upload-uuid"]).toBe(id);
		expect(res.headers.location).toBe(location);
		const head = await http(`${server.url}${location}`, { method: "HEAD" });
		expect(head.status).toBe(204);
	});

	it("a streamed PATCH with Content-Length, then PUT ?digest= with an empty body (skopeo)", async () => {
		const { location } = await start();
		const body = "streamed blob content";
		const patch = await http(`${server.url}${location}`, {
			method: "PATCH",
			headers: { "content-type": "application/octet-stream" },
			body,
		});
		expect(patch.status).toBe(202);
		expect(patch.headers.range).toBe(`0-${body.length - 1}`);
		expect(patch.headers.location).toBe(location);
		const status = await http(`${server.url}${location}`);
		expect(status.headers.range).toBe(`0-${body.length - 1}`);
		const d = sha256(body);
		const put = await http(`${server.url}${location}?digest=${d}`, { method: "PUT" });
		expect(put.status).toBe(201);
		expect(put.headers.location).toBe(`/v2/up/load/blobs/${d}`);
		expect(put.headers["docker-content-digest"]).toBe(d);
		expect((await http(`${server.url}/v2/up/load/blobs/${d}`)).text).toBe(body);
	});

	it("a PATCH with Transfer-Encoding: chunked and no length (podman)", async () => {
		const { location } = await start();
		const patch = await http(`${server.url}${location}`, {
			method: "PATCH",
			body: chunks("chunk one, ", "chunk two, ", "chunk three"),
		});
		expect(patch.status).toBe(202);
		const whole = "chunk one, chunk two, chunk three";
		expect(patch.headers.range).toBe(`0-${whole.length - 1}`);
		const put = await http(`${server.url}${location}?digest=${sha256(whole)}`, { method: "PUT" });
		expect(put.status).toBe(201);
	});

	it("chunks with Content-Range, with and without the bytes prefix, then a last chunk on PUT", async () => {
		const { location } = await start();
		const parts = ["aaaa", "bbbbbb", "cc"];
		const first = await http(`${server.url}${location}`, {
			method: "PATCH",
			headers: { "content-range": "0-3", "content-length": "4" },
			body: parts[0],
		});
		expect(first.status).toBe(202);
		expect(first.headers.range).toBe("0-3");
		const second = await http(`${server.url}${location}`, {
			method: "PATCH",
			headers: { "content-range": "bytes 4-9/*" },
			body: chunks(parts[1] as string),
		});
		expect(second.status).toBe(202);
		expect(second.headers.range).toBe("0-9");
		const whole = parts.join("");
		const put = await http(`${server.url}${location}?digest=${sha256(whole)}`, {
			method: "PUT",
			headers: { "content-range": "10-11", "content-length": "2" },
			body: parts[2],
		});
		expect(put.status).toBe(201);
		expect((await http(`${server.url}${put.headers.location}`)).text).toBe(whole);
	});

	it("an out-of-order chunk is 416 RANGE_INVALID with the current Range", async () => {
		const { location, id } = await start();
		await http(`${server.url}${location}`, {
			method: "PATCH",
			headers: { "content-range": "0-4" },
			body: "12345",
		});
		for (const range of ["0-4", "7-9", "bytes 3-5"]) {
			const res = await http(`${server.url}${location}`, {
				method: "PATCH",
				headers: { "content-range": range },
				body: "x".repeat(range === "bytes 3-5" ? 3 : range === "7-9" ? 3 : 5),
			});
			expect(res.status, range).toBe(416);
			expect(codes(res)).toEqual(["RANGE_INVALID"]);
			expect(res.headers.range).toBe("0-4");
			expect(res.headers.location).toBe(location);
			expect(res.headers["docker-upload-uuid"]).toBe(id);
		}
		// The upload is intact and continues where it stands.
		const next = await http(`${server.url}${location}`, {
			method: "PATCH",
			headers: { "content-range": "5-6" },
			body: "67",
		});
		expect(next.status).toBe(202);
		expect(next.headers.range).toBe("0-6");
	});

	it("Content-Range that ends before it starts is 416; a malformed one 400 BLOB_UPLOAD_INVALID", async () => {
		const { location } = await start();
		const backwards = await http(`${server.url}${location}`, {
			method: "PATCH",
			headers: { "content-range": "5-2" },
			body: "x",
		});
		expect(backwards.status).toBe(416);
		expect(codes(backwards)).toEqual(["RANGE_INVALID"]);
		const malformed = await http(`${server.url}${location}`, {
			method: "PATCH",
			headers: { "content-range": "bytes=a-b" },
			body: "x",
		});
		expect(malformed.status).toBe(400);
		expect(codes(malformed)).toEqual(["BLOB_UPLOAD_INVALID"]);
	});

	it("Content-Length that disagrees with Content-Range is 400 SIZE_INVALID", async () => {
		const { location } = await start();
		const res = await http(`${server.url}${location}`, {
			method: "PATCH",
			headers: { "content-range": "0-9", "content-length": "3" },
			body: "abc",
		});
		expect(res.status).toBe(400);
		expect(codes(res)).toEqual(["SIZE_INVALID"]);
	});

	it("a chunked body shorter than its Content-Range is 400 SIZE_INVALID", async () => {
		const { location } = await start();
		const res = await http(`${server.url}${location}`, {
			method: "PATCH",
			headers: { "content-range": "0-9" },
			body: chunks("abc"),
		});
		expect(res.status).toBe(400);
		expect(codes(res)).toEqual(["SIZE_INVALID"]);
	});

	it("PUT without a digest is 400 DIGEST_INVALID and keeps the upload", async () => {
		const { location } = await start();
		await http(`${server.url}${location}`, { method: "PATCH", body: "kept" });
		const res = await http(`${server.url}${location}`, { method: "PUT" });
		expect(res.status).toBe(400);
		expect(codes(res)).toEqual(["DIGEST_INVALID"]);
		const status = await http(`${server.url}${location}`);
		expect(status.status).toBe(204);
		expect(status.headers.range).toBe("0-3");
		const put = await http(`${server.url}${location}?digest=${sha256("kept")}`, { method: "PUT" });
		expect(put.status).toBe(201);
	});

	it("PUT with a digest that does not match is 400 DIGEST_INVALID and ends the upload", async () => {
		const { location } = await start();
		await http(`${server.url}${location}`, { method: "PATCH", body: "content" });
		const res = await http(`${server.url}${location}?digest=${sha256("other")}`, {
			method: "PUT",
		});
		expect(res.status).toBe(400);
		expect(codes(res)).toEqual(["DIGEST_INVALID"]);
		const status = await http(`${server.url}${location}`);
		expect(status.status).toBe(404);
		expect(codes(status)).toEqual(["BLOB_UPLOAD_UNKNOWN"]);
	});

	it("PUT with a malformed digest is 400 DIGEST_INVALID", async () => {
		const { location } = await start();
		const res = await http(`${server.url}${location}?digest=sha256:nothex`, { method: "PUT" });
		expect(res.status).toBe(400);
		expect(codes(res)).toEqual(["DIGEST_INVALID"]);
	});

	it("DELETE cancels: 204, then the upload is unknown", async () => {
		const { location } = await start();
		const res = await http(`${server.url}${location}`, { method: "DELETE" });
		expect(res.status).toBe(204);
		const after = await http(`${server.url}${location}`);
		expect(after.status).toBe(404);
		expect(codes(after)).toEqual(["BLOB_UPLOAD_UNKNOWN"]);
	});

	it("an unknown or malformed upload id is 404 BLOB_UPLOAD_UNKNOWN for every method", async () => {
		for (const id of ["0b1e0a54-0000-4000-8000-000000000000", "a..b", "a.b", "x%00y", "%2F"]) {
			for (const method of ["GET", "HEAD", "PATCH", "PUT", "DELETE"]) {
				const suffix = method === "PUT" ? `?digest=${sha256("")}` : "";
				const res = await http(`${server.url}/v2/up/load/blobs/uploads/${id}${suffix}`, {
					method,
					...(method === "PATCH" || method === "PUT" ? { body: "x" } : {}),
				});
				expect(res.status, `${method} ${id}`).toBe(404);
				if (method !== "HEAD") expect(codes(res)).toEqual(["BLOB_UPLOAD_UNKNOWN"]);
			}
		}
	});
});

describe("monolithic and mount", () => {
	it("POST ?digest= with the body is 201", async () => {
		const body = "monolithic";
		const d = sha256(body);
		const res = await http(`${server.url}/v2/mono/blobs/uploads/?digest=${d}`, {
			method: "POST",
			headers: { "content-type": "application/octet-stream" },
			body,
		});
		expect(res.status).toBe(201);
		expect(res.headers.location).toBe(`/v2/mono/blobs/${d}`);
		expect(res.headers["docker-content-digest"]).toBe(d);
		const chunked = await http(`${server.url}/v2/mono/blobs/uploads/?digest=${sha256("ab")}`, {
			method: "POST",
			body: chunks("a", "b"),
		});
		expect(chunked.status).toBe(201);
		const empty = await http(`${server.url}/v2/mono/blobs/uploads/?digest=${sha256("")}`, {
			method: "POST",
		});
		expect(empty.status).toBe(201);
	});

	it("POST ?digest= with the wrong digest is 400 DIGEST_INVALID and leaves no upload", async () => {
		const res = await http(`${server.url}/v2/mono2/blobs/uploads/?digest=${sha256("x")}`, {
			method: "POST",
			body: "y",
		});
		expect(res.status).toBe(400);
		expect(codes(res)).toEqual(["DIGEST_INVALID"]);
		const uploads = await server.driver
			.list(server.registry.layout.uploadsRoot("mono2"))
			.catch(() => []);
		expect(uploads).toEqual([]);
	});

	it("mount from a repository holding the blob is 201", async () => {
		const { digest } = await pushBlob(server.url, "source/repo", "shared layer");
		const res = await http(
			`${server.url}/v2/target/repo/blobs/uploads/?mount=${digest}&from=source/repo`,
			{ method: "POST" },
		);
		expect(res.status).toBe(201);
		expect(res.headers.location).toBe(`/v2/target/repo/blobs/${digest}`);
		expect(res.headers["docker-content-digest"]).toBe(digest);
		expect((await http(`${server.url}/v2/target/repo/blobs/${digest}`)).text).toBe("shared layer");
	});

	it("a mount that cannot be done falls back to a session (202)", async () => {
		const d = sha256("not anywhere");
		for (const query of [
			`mount=${d}&from=source/repo`,
			`mount=${d}`,
			`mount=${d}&from=BAD..name`,
		]) {
			const res = await http(`${server.url}/v2/target/repo/blobs/uploads/?${query}`, {
				method: "POST",
			});
			expect(res.status, query).toBe(202);
			expect(res.headers["docker-upload-uuid"]).toBeTruthy();
		}
	});

	it("a mount of a malformed digest is 400 DIGEST_INVALID", async () => {
		const res = await http(`${server.url}/v2/t/blobs/uploads/?mount=sha256:zz&from=source/repo`, {
			method: "POST",
		});
		expect(res.status).toBe(400);
		expect(codes(res)).toEqual(["DIGEST_INVALID"]);
	});
});

describe("uploads across replicas and failures", () => {
	it("an upload started on one replica continues on another (no per-process state)", async () => {
		const a = await startServer({ driver: server.driver });
		const b = await startServer({ driver: server.driver });
		try {
			const { location } = await start(a.url, "replicated");
			const patch = await http(`${b.url}${location}`, { method: "PATCH", body: "from b, " });
			expect(patch.status).toBe(202);
			const patch2 = await http(`${a.url}${location}`, {
				method: "PATCH",
				headers: { "content-range": "8-13" },
				body: "from a",
			});
			expect(patch2.status).toBe(202);
			const d = sha256("from b, from a");
			const put = await http(`${b.url}${location}?digest=${d}`, { method: "PUT" });
			expect(put.status).toBe(201);
		} finally {
			await a.close();
			await b.close();
		}
	});

	it("a second writer while one is streaming is 409 with Retry-After", async () => {
		const { location } = await start();
		let release: () => void = () => undefined;
		const gate = new Promise<void>((r) => {
			release = r;
		});
		async function* slow() {
			yield Buffer.from("first half ");
			await gate;
			yield Buffer.from("second half");
		}
		const pending = http(`${server.url}${location}`, { method: "PATCH", body: slow() });
		await new Promise((r) => setTimeout(r, 100));
		const conflict = await http(`${server.url}${location}`, { method: "PATCH", body: "x" });
		expect(conflict.status).toBe(409);
		expect(codes(conflict)).toEqual(["BLOB_UPLOAD_INVALID"]);
		expect(conflict.headers["retry-after"]).toBe("1");
		release();
		expect((await pending).status).toBe(202);
	});

	it("a client that disconnects mid-PATCH leaves a resumable upload", async () => {
		const { location } = await start();
		const port = Number(new URL(server.url).port);
		await new Promise<void>((resolve) => {
			const socket = connect(port, "127.0.0.1", () => {
				socket.write(
					`PATCH ${location} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n${"a".repeat(300)}`,
				);
				setTimeout(() => socket.destroy(), 200);
			});
			socket.on("close", () => resolve());
			socket.on("error", () => undefined);
		});
		await new Promise((r) => setTimeout(r, 200));
		const status = await http(`${server.url}${location}`);
		expect(status.status).toBe(204);
		const offset = Number(status.headers.range?.split("-")[1]) + 1;
		expect(offset).toBe(300);
		const rest = "b".repeat(10);
		const put = await http(`${server.url}${location}?digest=${sha256("a".repeat(300) + rest)}`, {
			method: "PUT",
			headers: { "content-range": `${offset}-${offset + 9}` },
			body: rest,
		});
		expect(put.status).toBe(201);
		expect((await http(`${server.url}/v2/`)).status).toBe(200);
	});

	it("streams a large chunked upload to disk without buffering it", async () => {
		const root = await mkdtemp(join(tmpdir(), "stowage-upload-"));
		const s = await startServer({
			registry: new Registry({ driver: createFsDriver({ rootDirectory: root }) }),
		});
		try {
			const { location } = await start(s.url, "big");
			const chunk = Buffer.alloc(1024 * 1024, 7);
			const total = 96;
			const hash = createHash("sha256");
			for (let i = 0; i < total; i++) hash.update(chunk);
			const d = `sha256:${hash.digest("hex")}`;
			global.gc?.();
			const before = process.memoryUsage().arrayBuffers;
			let peak = before;
			async function* body() {
				for (let i = 0; i < total; i++) {
					peak = Math.max(peak, process.memoryUsage().arrayBuffers);
					yield chunk;
				}
			}
			const patch = await http(`${s.url}${location}`, { method: "PATCH", body: body() });
			expect(patch.status).toBe(202);
			expect(patch.headers.range).toBe(`0-${total * chunk.length - 1}`);
			// The server and client share this process: 96 MiB passed through, far less was held.
			expect(peak - before).toBeLessThan(48 * 1024 * 1024);
			const put = await http(`${s.url}${location}?digest=${d}`, { method: "PUT" });
			expect(put.status).toBe(201);
			const head = await http(`${s.url}/v2/big/blobs/${d}`, { method: "HEAD" });
			expect(head.headers["content-length"]).toBe(String(total * chunk.length));
		} finally {
			await s.close();
			await rm(root, { recursive: true, force: true });
		}
	}, 60_000);
});

describe("bodies longer than declared", () => {
	it("a chunked body longer than its Content-Range is 400 SIZE_INVALID, and the connection closes", async () => {
		const { location } = await start();
		const res = await http(`${server.url}${location}`, {
			method: "PATCH",
			headers: { "content-range": "0-1" },
			body: (async function* () {
				for (let i = 0; i < 64; i++) {
					yield Buffer.alloc(64 * 1024, 1);
					await new Promise((r) => setTimeout(r, 2));
				}
			})(),
		});
		expect(res.status).toBe(400);
		expect(codes(res)).toEqual(["SIZE_INVALID"]);
		expect(res.headers.connection).toBe("close");
		expect((await http(`${server.url}/v2/`)).status).toBe(200);
	});
});

describe("stalled clients", () => {
	it("a client that stops sending mid-body is dropped after the idle timeout; its bytes stay", async () => {
		const s = await startServer({ idleTimeout: 300 });
		try {
			const { location } = await start(s.url, "stall");
			const port = Number(new URL(s.url).port);
			const started = Date.now();
			await new Promise<void>((resolve) => {
				const socket = connect(port, "127.0.0.1", () => {
					socket.write(
						`PATCH ${location} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n${"s".repeat(40)}`,
					);
				});
				socket.on("close", () => resolve());
				socket.on("error", () => undefined);
			});
			expect(Date.now() - started).toBeLessThan(5000);
			const status = await http(`${s.url}${location}`);
			expect(status.headers.range).toBe("0-39");
		} finally {
			await s.close();
		}
	});
});
