import type { StorageDriver } from "@stowage/core";
import { createMemoryDriver } from "@stowage/driver-memory";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codes, http, pushBlob, sha256, startServer, type TestServer } from "./helpers.js";

let server: TestServer;
let deleting: TestServer;
const content = "0123456789abcdefghij";
let digest: string;

beforeAll(async () => {
	server = await startServer();
	deleting = await startServer({ deleteEnabled: true });
	digest = (await pushBlob(server.url, "lib/blobs", content)).digest;
});
afterAll(async () => {
	await server.close();
	await deleting.close();
});

describe("GET and HEAD blobs", () => {
	it("GET streams the blob with digest, ETag, length and caching headers", async () => {
		const res = await http(`${server.url}/v2/lib/blobs/blobs/${digest}`);
		expect(res.status).toBe(200);
		expect(res.text).toBe(content);
		expect(res.headers["docker-content-digest"]).toBe(digest);
		expect(res.headers.etag).toBe(`"${digest}"`);
		expect(res.headers["content-length"]).toBe(String(content.length));
		expect(res.headers["content-type"]).toBe("application/octet-stream");
		expect(res.headers["cache-control"]).toBe("max-age=31536000");
		expect(res.headers["accept-ranges"]).toBe("bytes");
	});

	it("HEAD gives the same headers and no body", async () => {
		const res = await http(`${server.url}/v2/lib/blobs/blobs/${digest}`, { method: "HEAD" });
		expect(res.status).toBe(200);
		expect(res.body.length).toBe(0);
		expect(res.headers["content-length"]).toBe(String(content.length));
		expect(res.headers["docker-content-digest"]).toBe(digest);
	});

	it("If-None-Match with the ETag is 304", async () => {
		for (const tag of [`"${digest}"`, digest, `W/"${digest}"`, "*", `"x", "${digest}"`]) {
			const res = await http(`${server.url}/v2/lib/blobs/blobs/${digest}`, {
				headers: { "if-none-match": tag },
			});
			expect(res.status, tag).toBe(304);
			expect(res.body.length).toBe(0);
		}
		const other = await http(`${server.url}/v2/lib/blobs/blobs/${digest}`, {
			headers: { "if-none-match": '"sha256:other"' },
		});
		expect(other.status).toBe(200);
	});

	it("Range gives 206 with Content-Range", async () => {
		const cases: [string, string, string][] = [
			["bytes=0-3", "0123", "bytes 0-3/20"],
			["bytes=10-", "abcdefghij", "bytes 10-19/20"],
			["bytes=-5", "fghij", "bytes 15-19/20"],
			["bytes=18-100", "ij", "bytes 18-19/20"],
		];
		for (const [range, body, contentRange] of cases) {
			const res = await http(`${server.url}/v2/lib/blobs/blobs/${digest}`, {
				headers: { range },
			});
			expect(res.status, range).toBe(206);
			expect(res.text).toBe(body);
			expect(res.headers["content-range"]).toBe(contentRange);
			expect(res.headers["content-length"]).toBe(String(body.length));
		}
		const head = await http(`${server.url}/v2/lib/blobs/blobs/${digest}`, {
			method: "HEAD",
			headers: { range: "bytes=2-5" },
		});
		expect(head.status).toBe(206);
		expect(head.headers["content-length"]).toBe("4");
	});

	it("an unsatisfiable Range is 416 with Content-Range */size", async () => {
		for (const range of ["bytes=20-", "bytes=100-200", "bytes=-0"]) {
			const res = await http(`${server.url}/v2/lib/blobs/blobs/${digest}`, {
				headers: { range },
			});
			expect(res.status, range).toBe(416);
			expect(res.headers["content-range"]).toBe("bytes */20");
			expect(codes(res)).toEqual(["RANGE_INVALID"]);
		}
	});

	it("a malformed or multi-part Range serves the whole blob", async () => {
		for (const range of ["bytes=a-b", "items=0-1", "bytes=0-1,3-4", "bytes=5-2"]) {
			const res = await http(`${server.url}/v2/lib/blobs/blobs/${digest}`, {
				headers: { range },
			});
			expect(res.status, range).toBe(200);
			expect(res.text).toBe(content);
		}
	});

	it("an unknown blob is 404 BLOB_UNKNOWN, for GET and HEAD", async () => {
		const missing = sha256("missing");
		const res = await http(`${server.url}/v2/lib/blobs/blobs/${missing}`);
		expect(res.status).toBe(404);
		expect(codes(res)).toEqual(["BLOB_UNKNOWN"]);
		const head = await http(`${server.url}/v2/lib/blobs/blobs/${missing}`, { method: "HEAD" });
		expect(head.status).toBe(404);
		expect(head.body.length).toBe(0);
	});

	it("a blob of another repository is unknown here", async () => {
		const res = await http(`${server.url}/v2/other/blobs/${digest}`);
		expect(res.status).toBe(404);
		expect(codes(res)).toEqual(["BLOB_UNKNOWN"]);
	});

	it("a malformed digest is 400 DIGEST_INVALID; an unknown algorithm too", async () => {
		for (const bad of [
			"sha256:zz",
			"nodigest",
			"sha256:abc",
			"md5:d41d8cd98f00b204e9800998ecf8427e",
		]) {
			const res = await http(`${server.url}/v2/lib/blobs/blobs/${bad}`);
			expect(res.status, bad).toBe(400);
			expect(codes(res)).toEqual(["DIGEST_INVALID"]);
		}
	});
});

describe("blob redirects", () => {
	function redirecting(): StorageDriver {
		const driver = createMemoryDriver();
		return new Proxy(driver, {
			get(target, prop, receiver) {
				if (prop === "capabilities") return { ...target.capabilities, redirect: true };
				if (prop === "redirectURL") {
					return async (path: string, o: { method: string }) =>
						`https://cdn.example.com${path}?method=${o.method}`;
				}
				return Reflect.get(target, prop, receiver);
			},
		});
	}

	it("GET and HEAD are 307 to the driver's URL when redirects are enabled", async () => {
		const s = await startServer({ driver: redirecting() });
		try {
			const { digest: d } = await pushBlob(s.url, "r", "redirected");
			const res = await http(`${s.url}/v2/r/blobs/${d}`);
			expect(res.status).toBe(307);
			expect(res.headers.location).toMatch(/^https:\/\/cdn\.example\.com\/.*\/data\?method=GET$/);
			expect(res.headers["docker-content-digest"]).toBe(d);
			const head = await http(`${s.url}/v2/r/blobs/${d}`, { method: "HEAD" });
			expect(head.status).toBe(307);
			expect(head.headers.location).toMatch(/method=HEAD$/);
			const missing = await http(`${s.url}/v2/r/blobs/${sha256("nope")}`);
			expect(missing.status).toBe(404);
		} finally {
			await s.close();
		}
	});

	it("redirect.disable serves the bytes instead", async () => {
		const s = await startServer({ driver: redirecting(), redirect: false });
		try {
			const { digest: d } = await pushBlob(s.url, "r", "served");
			const res = await http(`${s.url}/v2/r/blobs/${d}`);
			expect(res.status).toBe(200);
			expect(res.text).toBe("served");
		} finally {
			await s.close();
		}
	});
});

describe("DELETE blobs", () => {
	it("is 405 UNSUPPORTED while deletes are disabled", async () => {
		const res = await http(`${server.url}/v2/lib/blobs/blobs/${digest}`, { method: "DELETE" });
		expect(res.status).toBe(405);
		expect(codes(res)).toEqual(["UNSUPPORTED"]);
		expect((await http(`${server.url}/v2/lib/blobs/blobs/${digest}`)).status).toBe(200);
	});

	it("unlinks the blob when enabled: 202, then 404", async () => {
		const { digest: d } = await pushBlob(deleting.url, "del/me", "to delete");
		const res = await http(`${deleting.url}/v2/del/me/blobs/${d}`, { method: "DELETE" });
		expect(res.status).toBe(202);
		expect(res.headers["docker-content-digest"]).toBe(d);
		const after = await http(`${deleting.url}/v2/del/me/blobs/${d}`);
		expect(after.status).toBe(404);
		const again = await http(`${deleting.url}/v2/del/me/blobs/${d}`, { method: "DELETE" });
		expect(again.status).toBe(404);
		expect(codes(again)).toEqual(["BLOB_UNKNOWN"]);
		const bad = await http(`${deleting.url}/v2/del/me/blobs/sha256:bad`, { method: "DELETE" });
		expect(codes(bad)).toEqual(["DIGEST_INVALID"]);
	});
});

describe("read-only mode", () => {
	it("refuses writes with 405 UNSUPPORTED and serves reads", async () => {
		const s = await startServer({ readOnly: true, driver: server.driver });
		try {
			const post = await http(`${s.url}/v2/lib/blobs/blobs/uploads/`, { method: "POST" });
			expect(post.status).toBe(405);
			expect(codes(post)).toEqual(["UNSUPPORTED"]);
			expect((await http(`${s.url}/v2/lib/blobs/blobs/${digest}`)).status).toBe(200);
		} finally {
			await s.close();
		}
	});
});
