import { request } from "node:http";
import { describe, expect, it } from "vitest";
import { guardUnhandled, pattern, useStrictServer } from "./support.js";

const s = useStrictServer();
guardUnhandled();

describe("redirectURL: presigned GET and HEAD", () => {
	it("URLs the server verifies, fetched for real; HEAD gives the length; the method is signed", async () => {
		const d = s.driver();
		await d.putContent("/blobs/x", pattern(1234));
		const get = (await d.redirectURL("/blobs/x", { method: "GET" })) as string;
		const head = (await d.redirectURL("/blobs/x", { method: "HEAD" })) as string;
		expect(new URL(get).searchParams.get("X-Amz-Expires")).toBe("1200");
		const res = await fetch(get);
		expect(res.status).toBe(200);
		expect(Buffer.from(await res.arrayBuffer()).equals(pattern(1234))).toBe(true);
		const h = await fetch(head, { method: "HEAD" });
		expect(h.status).toBe(200);
		expect(h.headers.get("content-length")).toBe("1234");
		expect((await fetch(head)).status).toBe(403);
		expect((await fetch(get.replace("/blobs/x", "/blobs/y"))).status).toBe(403);
	});

	it("lifetime: per call, or the redirectexpiry option", async () => {
		const d = s.driver({ redirectexpiry: "300" });
		await d.putContent("/f", pattern(1));
		const byOption = new URL((await d.redirectURL("/f", { method: "GET" })) as string);
		expect(byOption.searchParams.get("X-Amz-Expires")).toBe("300");
		const byCall = new URL((await d.redirectURL("/f", { method: "GET", expiresIn: 60 })) as string);
		expect(byCall.searchParams.get("X-Amz-Expires")).toBe("60");
	});

	it("redirectendpoint signs for another host name of the store", async () => {
		const d = s.driver({ redirectendpoint: `http://cdn.stowage.test:${s.server.port}` });
		await d.putContent("/g", pattern(7));
		const url = new URL((await d.redirectURL("/g", { method: "GET" })) as string);
		expect(url.host).toBe(`cdn.stowage.test:${s.server.port}`);
		// Reach the server under that name: the signature covers the Host header.
		const status = await new Promise<number>((resolve, reject) => {
			const req = request(
				{
					host: "127.0.0.1",
					port: s.server.port,
					path: url.pathname + url.search,
					headers: { host: url.host },
				},
				(res) => {
					res.resume();
					resolve(res.statusCode ?? 0);
				},
			);
			req.on("error", reject);
			req.end();
		});
		expect(status).toBe(200);
	});
});
