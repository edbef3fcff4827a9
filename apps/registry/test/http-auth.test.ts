/**
 * Access control over HTTP: every endpoint against the access it needs (token auth), the
 * challenges, every way a token fails, htpasswd logins, failed-login limiting, no existence
 * leaks, the mount fallback and secrets kept out of the logs.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { createMemoryDriver } from "@stowage/driver-memory";
import bcrypt from "bcryptjs";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGate } from "../src/auth/gate.js";
import { HtpasswdController } from "../src/auth/htpasswd.js";
import { LOG_REDACTION } from "../src/auth/redact.js";
import { type Need, SCOPE_TABLE } from "../src/auth/scopes.js";
import { TokenController } from "../src/auth/token.js";
import {
	type AccessEntry,
	basic,
	inCI,
	makePki,
	missingTools,
	type Pki,
	TokenSigner,
	tamper,
	unsignedToken,
} from "./auth-fixtures.js";
import {
	buildImage,
	codes,
	http,
	pushBlob,
	putManifest,
	type Response,
	startServer,
	type TestServer,
} from "./helpers.js";

const missing = missingTools(["openssl"]);
const SERVICE = "stowage.test";
const ISSUER = "test-issuer";

describe("tools for the HTTP auth tests", () => {
	it.runIf(inCI)("openssl is installed (required under CI)", () => {
		expect(missing).toEqual([]);
	});
});

/** A log sink: every line the server writes, as text. */
function memoryLogger() {
	const lines: string[] = [];
	const stream = new Writable({
		write(chunk, _enc, done) {
			lines.push(String(chunk));
			done();
		},
	});
	return { logger: pino({ level: "debug", redact: LOG_REDACTION }, stream), lines };
}

describe.skipIf(missing.length > 0)("token auth over HTTP", () => {
	let dir: string;
	let pki: Pki;
	let signer: TokenSigner;
	let other: TokenSigner;
	let open: TestServer;
	let server: TestServer;
	const logs = memoryLogger();
	let image: Awaited<ReturnType<typeof buildImage>>;
	let layer: string;
	let secretLayer: string;
	let uploadId: string;

	const token = (access: AccessEntry[], extra: Record<string, unknown> = {}) =>
		signer.sign({ iss: ISSUER, aud: SERVICE, sub: "tester", access, ...extra });
	const repo = (name: string, ...actions: string[]): AccessEntry => ({
		type: "repository",
		name,
		actions,
	});
	const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

	beforeAll(async () => {
		dir = await mkdtemp(join(tmpdir(), "stowage-http-auth-"));
		pki = makePki(dir);
		signer = await TokenSigner.fromFiles(pki.signingKey, pki.signingCert);
		other = await TokenSigner.fromFiles(pki.otherKey);
		const driver = createMemoryDriver();
		open = await startServer({ driver });
		image = await buildImage(open.url, "team/app");
		layer = image.manifest.layers[0]?.digest as string;
		expect((await putManifest(open.url, "team/app", "v1", image.bytes)).status).toBe(201);
		const secret = await buildImage(open.url, "other/secret", { layers: ["classified"] });
		secretLayer = secret.manifest.layers[0]?.digest as string;
		expect((await putManifest(open.url, "other/secret", "v1", secret.bytes)).status).toBe(201);
		const started = await http(`${open.url}/v2/team/app/blobs/uploads/`, { method: "POST" });
		uploadId = started.headers["docker-upload-uuid"] as string;
		const controller = await TokenController.create({
			realm: "https://auth.example.com/token",
			service: SERVICE,
			issuer: ISSUER,
			rootCertBundle: pki.signingCert,
			autoRedirect: false,
			autoRedirectPath: "/auth/token",
			signingAlgorithms: ["ES256"],
		});
		server = await startServer({
			driver,
			deleteEnabled: true,
			logger: logs.logger,
			access: createGate(controller, { failures: 1000 }),
		});
	});
	afterAll(async () => {
		await server?.close();
		await open?.close();
		await rm(dir, { recursive: true, force: true });
	});

	/** Every endpoint the dispatcher serves, with the access the table says it needs. */
	const endpoints = (): {
		method: string;
		path: string;
		need: Need;
		body?: string;
		headers?: Record<string, string>;
	}[] => [
		{ method: "GET", path: "/v2/_catalog", need: "catalog" },
		{ method: "GET", path: "/v2/team/app/tags/list", need: "pull" },
		{ method: "GET", path: "/v2/team/app/manifests/v1", need: "pull" },
		{ method: "HEAD", path: "/v2/team/app/manifests/v1", need: "pull" },
		{
			method: "PUT",
			path: "/v2/team/app/manifests/v2",
			need: "pull,push",
			body: image.bytes.toString(),
			headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
		},
		{ method: "DELETE", path: "/v2/team/app/manifests/v2", need: "delete" },
		{ method: "GET", path: `/v2/team/app/blobs/${layer}`, need: "pull" },
		{ method: "HEAD", path: `/v2/team/app/blobs/${layer}`, need: "pull" },
		{ method: "DELETE", path: `/v2/team/app/blobs/sha256:${"0".repeat(64)}`, need: "delete" },
		{ method: "POST", path: "/v2/team/app/blobs/uploads/", need: "pull,push" },
		{ method: "GET", path: `/v2/team/app/blobs/uploads/${uploadId}`, need: "pull,push" },
		{ method: "HEAD", path: `/v2/team/app/blobs/uploads/${uploadId}`, need: "pull,push" },
		{
			method: "PATCH",
			path: `/v2/team/app/blobs/uploads/${uploadId}`,
			need: "pull,push",
			body: "some bytes",
		},
		{
			method: "PUT",
			path: `/v2/team/app/blobs/uploads/${uploadId}?digest=sha256:${"1".repeat(64)}`,
			need: "pull,push",
		},
		{ method: "DELETE", path: `/v2/team/app/blobs/uploads/${uploadId}`, need: "pull,push" },
		{ method: "GET", path: `/v2/team/app/referrers/${image.digest}`, need: "pull" },
	];

	const grants: Record<string, AccessEntry[]> = {
		nothing: [],
		pull: [repo("team/app", "pull")],
		push: [repo("team/app", "push")],
		"pull,push": [repo("team/app", "pull", "push")],
		delete: [repo("team/app", "delete")],
		"*": [repo("team/app", "*")],
		"other repository": [repo("team/other", "*")],
		catalog: [{ type: "registry", name: "catalog", actions: ["*"] }],
	};
	const allowed = (need: Need, grant: string): boolean => {
		if (grant === "*") return need !== "catalog";
		if (need === "catalog") return grant === "catalog";
		if (need === "pull,push") return grant === "pull,push";
		return need === grant || (need === "pull" && grant === "pull,push");
	};
	const expectedScope: Record<Need, string | undefined> = {
		login: undefined,
		pull: "repository:team/app:pull",
		"pull,push": "repository:team/app:pull,push",
		delete: "repository:team/app:delete",
		catalog: "registry:catalog:*",
	};

	const send = (e: ReturnType<typeof endpoints>[number], headers: Record<string, string>) =>
		http(`${server.url}${e.path}`, {
			method: e.method,
			headers: { ...e.headers, ...headers },
			...(e.body !== undefined ? { body: e.body } : {}),
		});

	it("the table has an entry for every method the dispatcher serves, and no other", async () => {
		const probe: Record<string, [string, string]> = {
			base: ["/v2/", "PATCH"],
			catalog: ["/v2/_catalog", "PATCH"],
			tags: ["/v2/team/app/tags/list", "PATCH"],
			manifest: ["/v2/team/app/manifests/v1", "PATCH"],
			blob: [`/v2/team/app/blobs/${layer}`, "PATCH"],
			uploads: ["/v2/team/app/blobs/uploads/", "PATCH"],
			upload: [`/v2/team/app/blobs/uploads/${uploadId}`, "POST"],
			referrers: [`/v2/team/app/referrers/${image.digest}`, "PATCH"],
		};
		for (const [kind, [path, method]] of Object.entries(probe)) {
			const res = await http(`${open.url}${path}`, { method });
			expect(res.status, kind).toBe(405);
			const served = res.headers.allow?.split(", ").sort();
			const table = Object.keys(SCOPE_TABLE[kind as keyof typeof SCOPE_TABLE]).flatMap((m) =>
				m === "GET" ? ["GET", "HEAD"] : [m],
			);
			expect(served, kind).toEqual(table.sort());
		}
	});

	it("every endpoint: 401 with the needed scope unless the token grants it", async () => {
		const tokens: Record<string, string> = {};
		for (const [name, access] of Object.entries(grants)) tokens[name] = await token(access);
		for (const e of endpoints()) {
			const anonymous = await send(e, {});
			expect(anonymous.status, `${e.method} ${e.path} anonymous`).toBe(401);
			const challenge = anonymous.headers["www-authenticate"];
			const scope = expectedScope[e.need];
			expect(challenge).toBe(
				`Bearer realm="https://auth.example.com/token",service="${SERVICE}"` +
					(scope ? `,scope="${scope}"` : ""),
			);
			for (const [name, t] of Object.entries(tokens)) {
				const res = await send(e, bearer(t));
				const label = `${e.method} ${e.path} with ${name}: ${res.status} ${res.text}`;
				if (allowed(e.need, name)) {
					expect(res.status, label).not.toBe(401);
				} else {
					expect(res.status, label).toBe(401);
					expect(res.headers["www-authenticate"], label).toMatch(/error="insufficient_scope"$/);
					if (e.method !== "HEAD") expect(codes(res), label).toEqual(["UNAUTHORIZED"]);
				}
			}
		}
	});

	it("the base endpoint needs any valid token, and no scope", async () => {
		const res = await http(`${server.url}/v2/`);
		expect(res.status).toBe(401);
		expect(res.headers["docker-distribution-api-version"]).toBe("registry/2.0");
		expect(res.headers["www-authenticate"]).toBe(
			`Bearer realm="https://auth.example.com/token",service="${SERVICE}"`,
		);
		expect(res.json()).toEqual({
			errors: [
				{
					code: "UNAUTHORIZED",
					message: "authentication required",
					detail: { requestId: res.headers["x-request-id"] },
				},
			],
		});
		expect((await http(`${server.url}/v2/`, { headers: bearer(await token([])) })).status).toBe(
			200,
		);
	});

	it("a pull-only token pulls, and cannot PATCH, PUT or DELETE", async () => {
		const t = bearer(await token([repo("team/app", "pull")]));
		expect((await http(`${server.url}/v2/team/app/manifests/v1`, { headers: t })).status).toBe(200);
		expect((await http(`${server.url}/v2/team/app/blobs/${layer}`, { headers: t })).text).toBe(
			"layer one",
		);
		for (const [method, path] of [
			["POST", "/v2/team/app/blobs/uploads/"],
			["PATCH", `/v2/team/app/blobs/uploads/${uploadId}`],
			["PUT", `/v2/team/app/blobs/uploads/${uploadId}?digest=${layer}`],
			["PUT", "/v2/team/app/manifests/v9"],
			["DELETE", `/v2/team/app/manifests/${image.digest}`],
			["DELETE", `/v2/team/app/blobs/${layer}`],
		] as const) {
			const res = await http(`${server.url}${path}`, { method, headers: t, body: "x" });
			expect(res.status, `${method} ${path}`).toBe(401);
		}
		// Nothing was changed.
		expect((await http(`${open.url}/v2/team/app/manifests/v1`)).status).toBe(200);
	});

	it("a mount without pull on the source silently becomes an upload session", async () => {
		const mountPath = (from: string, digest = layer) =>
			`${server.url}/v2/dst/blobs/uploads/?mount=${digest}&from=${from}`;
		// Anonymous: the challenge asks for the source too.
		const anonymous = await http(mountPath("team/app"), { method: "POST" });
		expect(anonymous.headers["www-authenticate"]).toContain(
			'scope="repository:dst:pull,push repository:team/app:pull"',
		);
		const pushOnly = bearer(await token([repo("dst", "pull", "push")]));
		const fallback = await http(mountPath("team/app"), { method: "POST", headers: pushOnly });
		expect(fallback.status).toBe(202);
		expect(fallback.headers.location).toMatch(/^\/v2\/dst\/blobs\/uploads\/[^/]+$/);
		expect((await http(`${open.url}/v2/dst/blobs/${layer}`, { method: "HEAD" })).status).toBe(404);
		const both = bearer(await token([repo("dst", "pull", "push"), repo("team/app", "pull")]));
		const mounted = await http(mountPath("team/app"), { method: "POST", headers: both });
		expect(mounted.status).toBe(201);
		expect(mounted.headers["docker-content-digest"]).toBe(layer);
	});

	it("no scope for another repository leaks whether it exists", async () => {
		const t = bearer(await token([repo("team/app", "*")]));
		const strip = (res: Response) => ({
			status: res.status,
			challenge: res.headers["www-authenticate"]?.replace(/other\/(secret|nothing)/g, "X"),
			body: res.text
				.replace(/other\/(secret|nothing)/g, "X")
				.replace(/"requestId":"[^"]*"/g, '"requestId":"X"'),
		});
		for (const [method, suffix] of [
			["GET", "/manifests/v1"],
			["HEAD", "/manifests/v1"],
			["GET", `/blobs/${secretLayer}`],
			["HEAD", `/blobs/${secretLayer}`],
			["GET", "/tags/list"],
			["DELETE", "/manifests/v1"],
			["POST", "/blobs/uploads/"],
		] as const) {
			for (const headers of [t, {}]) {
				const exists = await http(`${server.url}/v2/other/secret${suffix}`, { method, headers });
				const absent = await http(`${server.url}/v2/other/nothing${suffix}`, { method, headers });
				expect(exists.status).toBe(401);
				expect(strip(exists), `${method} ${suffix}`).toEqual(strip(absent));
			}
		}
		// Probing by mount: the same 202 session whether or not the blob is there.
		const own = bearer(await token([repo("team/app", "*")]));
		for (const from of ["other/secret", "other/nothing"]) {
			const res = await http(
				`${server.url}/v2/team/app/blobs/uploads/?mount=${secretLayer}&from=${from}`,
				{ method: "POST", headers: own },
			);
			expect(res.status, from).toBe(202);
		}
	});

	it("refuses every broken token with invalid_token and says why", async () => {
		const now = Math.floor(Date.now() / 1000);
		const claims = { iss: ISSUER, aud: SERVICE, access: [repo("team/app", "pull")] };
		const valid = await signer.sign(claims);
		const cases: [string, string, RegExp][] = [
			["expired", await signer.sign({ ...claims, exp: now - 3600 }), /token expired/],
			["not yet valid", await signer.sign({ ...claims, nbf: now + 3600 }), /not valid yet/],
			["wrong issuer", await signer.sign({ ...claims, iss: "evil" }), /untrusted issuer/],
			["wrong audience", await signer.sign({ ...claims, aud: "other" }), /another service/],
			["wrong key", await other.sign(claims, { kid: signer.kid }), /signature/],
			["unknown key", await other.sign(claims), /untrusted key/],
			[
				"tampered payload",
				tamper(valid, { ...claims, exp: now + 300, access: [repo("team/app", "*")] }),
				/signature/,
			],
			["alg none", unsignedToken({ ...claims, exp: now + 300 }), /not allowed|malformed/],
			["missing exp", await signer.sign({ ...claims, exp: undefined }), /"exp"/],
			["missing iss", await signer.sign({ aud: SERVICE }), /"iss"/],
			["missing aud", await signer.sign({ iss: ISSUER }), /"aud"/],
			["garbage", "garbage", /malformed/],
		];
		for (const [name, t, reason] of cases) {
			const res = await http(`${server.url}/v2/team/app/manifests/v1`, { headers: bearer(t) });
			expect(res.status, name).toBe(401);
			expect(res.headers["www-authenticate"], name).toMatch(/,error="invalid_token"$/);
			expect(codes(res), name).toEqual(["UNAUTHORIZED"]);
			expect(res.json().errors[0].message, name).toMatch(reason);
		}
		expect(
			(await http(`${server.url}/v2/team/app/manifests/v1`, { headers: bearer(valid) })).status,
		).toBe(200);
	});

	it("an invalid repository name is NAME_INVALID before any auth", async () => {
		const res = await http(`${server.url}/v2/Bad..Name/tags/list`);
		expect(res.status).toBe(400);
		expect(codes(res)).toEqual(["NAME_INVALID"]);
	});

	it("never logs a token", () => {
		const text = logs.lines.join("");
		expect(text).toContain("failed login");
		expect(text).not.toMatch(/eyJ[\w-]{10,}\./);
	});
});

describe("htpasswd auth over HTTP", () => {
	let dir: string;
	let path: string;
	let server: TestServer;
	const logs = memoryLogger();
	const PASSWORD = "s3cret-Passw0rd";

	beforeAll(async () => {
		dir = await mkdtemp(join(tmpdir(), "stowage-htpasswd-http-"));
		path = join(dir, "htpasswd");
		await writeFile(path, `alice:${bcrypt.hashSync(PASSWORD, 4)}\n`);
		const controller = new HtpasswdController({ realm: "Stowage Registry", path });
		await controller.load();
		server = await startServer({
			logger: logs.logger,
			access: createGate(controller, { failures: 3, window: 60_000 }),
		});
	});
	afterAll(async () => {
		await server?.close();
		await rm(dir, { recursive: true, force: true });
	});

	it("401 with a Basic challenge and UNAUTHORIZED; a valid user may push and pull", async () => {
		const anonymous = await http(`${server.url}/v2/`);
		expect(anonymous.status).toBe(401);
		expect(anonymous.headers["www-authenticate"]).toBe('Basic realm="Stowage Registry"');
		expect(codes(anonymous)).toEqual(["UNAUTHORIZED"]);
		const auth = { authorization: basic("alice", PASSWORD) };
		expect((await http(`${server.url}/v2/`, { headers: auth })).status).toBe(200);
		const monolithic = (
			await http(`${server.url}/v2/a/blobs/uploads/?digest=sha256:${"0".repeat(64)}`, {
				method: "POST",
				headers: auth,
				body: "x",
			})
		).status;
		expect(monolithic).toBe(400); // through to the engine: the digest does not match
		const blob = await http(`${server.url}/v2/a/blobs/uploads/`, { method: "POST", headers: auth });
		expect(blob.status).toBe(202);
		const res = await http(`${server.url}/v2/a/blobs/uploads/`, {
			method: "POST",
			headers: { authorization: basic("alice", "wrong") },
		});
		expect(res.status).toBe(401);
		expect(res.json().errors[0].message).toBe("invalid username or password");
	});

	it("picks up a changed file without a restart", async () => {
		await writeFile(path, `bob:${bcrypt.hashSync("builder", 4)}\n`);
		const bob = await http(`${server.url}/v2/`, {
			headers: { authorization: basic("bob", "builder") },
		});
		expect(bob.status).toBe(200);
		const alice = await http(`${server.url}/v2/`, {
			headers: { authorization: basic("alice", PASSWORD) },
		});
		expect(alice.status).toBe(401);
		await writeFile(path, `alice:${bcrypt.hashSync(PASSWORD, 4)}\n`);
	});

	it("limits failed logins per address: 429 TOOMANYREQUESTS with Retry-After", async () => {
		// Two failures were spent above (a wrong password; alice while the file held only bob).
		for (let i = 0; i < 1; i++) {
			const res = await http(`${server.url}/v2/`, {
				headers: { authorization: basic("alice", `guess-${i}`) },
			});
			expect(res.status).toBe(401);
		}
		const blocked = await http(`${server.url}/v2/`, {
			headers: { authorization: basic("alice", PASSWORD) },
		});
		expect(blocked.status).toBe(429);
		expect(codes(blocked)).toEqual(["TOOMANYREQUESTS"]);
		expect(Number(blocked.headers["retry-after"])).toBeGreaterThan(0);
		expect(Number(blocked.headers["retry-after"])).toBeLessThanOrEqual(60);
		// Without credentials it is still told how to log in.
		expect((await http(`${server.url}/v2/`)).status).toBe(401);
	});

	it("never logs a password or an Authorization header", () => {
		const text = logs.lines.join("");
		expect(text).toContain("failed login");
		expect(text).not.toContain(PASSWORD);
		expect(text).not.toContain("guess-");
		expect(text).not.toContain(Buffer.from(`alice:${PASSWORD}`).toString("base64"));
	});
});

describe("read-only mode behind auth", () => {
	it("authenticated writes answer 405 UNSUPPORTED with a clear message; reads work", async () => {
		const dir = await mkdtemp(join(tmpdir(), "stowage-ro-"));
		const driver = createMemoryDriver();
		const open = await startServer({ driver });
		const path = join(dir, "htpasswd");
		await writeFile(path, `alice:${bcrypt.hashSync("pw", 4)}\n`);
		const controller = new HtpasswdController({ realm: "r", path });
		await controller.load();
		const ro = await startServer({ driver, readOnly: true, access: createGate(controller) });
		try {
			const { digest } = await pushBlob(open.url, "lib/ro", "content");
			const auth = { authorization: basic("alice", "pw") };
			for (const [method, p] of [
				["POST", "/v2/lib/ro/blobs/uploads/"],
				["PUT", "/v2/lib/ro/manifests/v1"],
				["DELETE", `/v2/lib/ro/blobs/${digest}`],
				["PATCH", "/v2/lib/ro/blobs/uploads/abc"],
			] as const) {
				const res = await http(`${ro.url}${p}`, { method, headers: auth, body: "{}" });
				expect(res.status, `${method} ${p}`).toBe(405);
				expect(codes(res)).toEqual(["UNSUPPORTED"]);
				expect(res.json().errors[0].message).toMatch(/read-only mode/);
			}
			const read = await http(`${ro.url}/v2/lib/ro/blobs/${digest}`, { headers: auth });
			expect(read.text).toBe("content");
		} finally {
			await ro.close();
			await open.close();
			await rm(dir, { recursive: true, force: true });
		}
	});
});
