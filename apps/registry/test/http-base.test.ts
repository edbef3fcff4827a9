import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codes, http, startServer, type TestServer } from "./helpers.js";

let server: TestServer;
beforeAll(async () => {
	server = await startServer({ headers: { "X-Content-Type-Options": "nosniff" } });
});
afterAll(() => server.close());

/** Write raw bytes on a fresh connection; resolve with what came back when the server closes. */
function raw(port: number, bytes: Buffer | string, halfClose = false): Promise<string> {
	return new Promise((resolve, reject) => {
		const socket = connect(port, "127.0.0.1", () => {
			socket.write(bytes);
			if (halfClose) socket.end();
		});
		const chunks: Buffer[] = [];
		socket.on("data", (c) => chunks.push(c));
		socket.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
		socket.on("error", reject);
		socket.setTimeout(5000, () => socket.destroy());
	});
}

function port(): number {
	return Number(new URL(server.url).port);
}

describe("base endpoints", () => {
	it("GET /v2/ answers 200 {} with the API version header", async () => {
		for (const path of ["/v2/", "/v2"]) {
			const res = await http(`${server.url}${path}`);
			expect(res.status).toBe(200);
			expect(res.json()).toEqual({});
			expect(res.headers["docker-distribution-api-version"]).toBe("registry/2.0");
		}
	});

	it("HEAD /v2/ answers 200 without a body", async () => {
		const res = await http(`${server.url}/v2/`, { method: "HEAD" });
		expect(res.status).toBe(200);
		expect(res.body.length).toBe(0);
	});

	it("adds configured headers and a request id to every response", async () => {
		const res = await http(`${server.url}/v2/`);
		expect(res.headers["x-content-type-options"]).toBe("nosniff");
		expect(res.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
	});

	it("/healthz checks the driver", async () => {
		const res = await http(`${server.url}/healthz`);
		expect(res.status).toBe(200);
		expect(res.json()).toMatchObject({ status: "ok", driver: "inmemory" });
	});

	it("unknown paths are 404 in the OCI envelope", async () => {
		for (const path of ["/nope", "/v2/foo", "/v2/foo/bar/baz", "/v2/foo/blobs"]) {
			const res = await http(`${server.url}${path}`);
			expect(res.status, path).toBe(404);
			expect(res.headers["content-type"]).toMatch(/^application\/json/);
			expect(codes(res)).toEqual(["UNSUPPORTED"]);
		}
	});

	it("a method a route does not have is 405 UNSUPPORTED with Allow", async () => {
		const res = await http(`${server.url}/v2/foo/tags/list`, { method: "DELETE" });
		expect(res.status).toBe(405);
		expect(codes(res)).toEqual(["UNSUPPORTED"]);
		expect(res.headers.allow).toBe("GET, HEAD");
		const post = await http(`${server.url}/v2/`, { method: "POST" });
		expect(post.status).toBe(405);
	});

	it("an invalid repository name is 400 NAME_INVALID", async () => {
		for (const name of ["Upper/case", "a//b", "-lead", "trail-", "a/_b", "a/.b"]) {
			const res = await http(`${server.url}/v2/${name}/tags/list`);
			expect(res.status, name).toBe(400);
			expect(codes(res)).toEqual(["NAME_INVALID"]);
		}
	});

	it("a malformed percent-escape is a 400 in the OCI envelope, not a crash", async () => {
		const res = await http(`${server.url}/v2/foo%zz/tags/list`);
		expect(res.status).toBe(400);
		expect(codes(res)).toEqual(["UNKNOWN"]);
	});

	it("a malformed Content-Type is ignored by the framework (no 415)", async () => {
		const res = await http(`${server.url}/v2/foo/blobs/uploads/`, {
			method: "POST",
			headers: { "content-type": "not a type;;;" },
		});
		expect(res.status).toBe(202);
	});

	it("survives a TLS ClientHello on the plain-HTTP port", async () => {
		// The first bytes of a TLS 1.2 ClientHello record, as skopeo sends before falling back.
		const hello = Buffer.from(
			"16030100a5010000a10303" +
				"00".repeat(32) +
				"000004c02fc030010000740000000e000c0000096c6f63616c686f7374",
			"hex",
		);
		const answer = await raw(port(), hello);
		expect(answer === "" || answer.startsWith("HTTP/1.1 400")).toBe(true);
		expect((await http(`${server.url}/v2/`)).status).toBe(200);
	});

	it("survives garbage and a half-closed client", async () => {
		await raw(port(), "\x00\x01\x02garbage\r\n\r\n");
		const answer = await raw(port(), "GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n", true);
		expect(answer).toMatch(/^HTTP\/1.1 200/);
		// A request whose body never arrives, then the client half-closes.
		const partial = await raw(
			port(),
			"PATCH /v2/foo/blobs/uploads/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc",
			true,
		);
		expect(partial === "" || partial.startsWith("HTTP/1.1")).toBe(true);
		expect((await http(`${server.url}/v2/`)).status).toBe(200);
	});
});

describe("server-side faults", () => {
	it("an unexpected failure is 500 UNKNOWN with the request id, not the message", async () => {
		const failing = await startServer();
		const original = failing.registry.repository.bind(failing.registry);
		failing.registry.repository = (name: string) => {
			const repo = original(name);
			repo.tags.list = async () => {
				throw new Error("secret backend detail");
			};
			return repo;
		};
		try {
			const res = await http(`${failing.url}/v2/foo/tags/list`);
			expect(res.status).toBe(500);
			expect(codes(res)).toEqual(["UNKNOWN"]);
			expect(res.text).not.toContain("secret backend detail");
			expect(res.json().errors[0].detail.requestId).toBe(res.headers["x-request-id"]);
		} finally {
			await failing.close();
		}
	});
});
