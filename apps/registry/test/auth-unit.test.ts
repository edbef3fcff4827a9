/**
 * Access control without HTTP: the scope table, the failed-login limiter, htpasswd files and
 * token verification (every way a token can be wrong), and the auth/tls configuration keys.
 */

import { mkdtemp, rm, unlink, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import bcrypt from "bcryptjs";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HtpasswdController, parseBasic, parseHtpasswd } from "../src/auth/htpasswd.js";
import { libtrustKeyId, verifyChain } from "../src/auth/keys.js";
import { FailureLimiter } from "../src/auth/rate-limit.js";
import { parseScope, requiredAccess, SCOPE_TABLE, scopeParam } from "../src/auth/scopes.js";
import { TokenController, TokenRejected } from "../src/auth/token.js";
import { ConfigError, loadConfig } from "../src/config.js";
import type { OciRoute } from "../src/http/oci-path.js";
import {
	basic,
	htpasswdFile,
	inCI,
	makePki,
	missingTools,
	type Pki,
	TokenSigner,
	tamper,
	unsignedToken,
} from "./auth-fixtures.js";

const missing = missingTools(["openssl", "htpasswd"]);
const q = (s = "") => new URLSearchParams(s);

describe("tools for the auth tests", () => {
	it.runIf(inCI)("openssl and htpasswd (apache2-utils) are installed (required under CI)", () => {
		expect(missing, `missing: ${missing.join(", ")}`).toEqual([]);
	});
});

describe("the scope table", () => {
	const manifest: OciRoute = { kind: "manifest", name: "team/app", reference: "v1" };
	const pull = (name: string) => ({ type: "repository", name, action: "pull" });
	const push = (name: string) => ({ type: "repository", name, action: "push" });

	it("maps reads to pull, writes to pull+push, deletes to delete", () => {
		expect(requiredAccess(manifest, "GET", q()).needed).toEqual([pull("team/app")]);
		expect(requiredAccess(manifest, "HEAD", q()).needed).toEqual([pull("team/app")]);
		expect(requiredAccess(manifest, "PUT", q()).needed).toEqual([
			pull("team/app"),
			push("team/app"),
		]);
		expect(requiredAccess(manifest, "DELETE", q()).needed).toEqual([
			{ type: "repository", name: "team/app", action: "delete" },
		]);
		const upload: OciRoute = { kind: "upload", name: "a", id: "x" };
		for (const method of ["GET", "HEAD", "PATCH", "PUT", "DELETE"]) {
			expect(requiredAccess(upload, method, q()).needed).toEqual([pull("a"), push("a")]);
		}
	});

	it("base needs a login only; the catalog needs registry:catalog:*", () => {
		expect(requiredAccess({ kind: "base" }, "GET", q())).toEqual({ needed: [], wanted: [] });
		expect(requiredAccess({ kind: "catalog" }, "GET", q()).needed).toEqual([
			{ type: "registry", name: "catalog", action: "*" },
		]);
	});

	it("a mount wants (but does not need) pull on its source", () => {
		const uploads: OciRoute = { kind: "uploads", name: "dst" };
		const r = requiredAccess(uploads, "POST", q("mount=sha256:abc&from=src/repo"));
		expect(r.needed).toEqual([pull("dst"), push("dst")]);
		expect(r.wanted).toEqual([pull("src/repo")]);
		expect(scopeParam([...r.needed, ...r.wanted])).toBe(
			"repository:dst:pull,push repository:src/repo:pull",
		);
		// An invalid source name is not echoed into a challenge.
		expect(requiredAccess(uploads, "POST", q('mount=x&from=Bad"Name')).wanted).toEqual([]);
	});

	it("covers every route kind", () => {
		expect(Object.keys(SCOPE_TABLE).sort()).toEqual(
			["base", "blob", "catalog", "manifest", "referrers", "tags", "upload", "uploads"].sort(),
		);
	});

	it("parses scopes, names with a port and resource classes included", () => {
		expect(parseScope("repository:reg:5000/a/b:pull,push registry:catalog:*")).toEqual([
			{ type: "repository", name: "reg:5000/a/b", action: "pull" },
			{ type: "repository", name: "reg:5000/a/b", action: "push" },
			{ type: "registry", name: "catalog", action: "*" },
		]);
		expect(parseScope("repository(plugin):p:pull")).toEqual([
			{ type: "repository", name: "p", action: "pull" },
		]);
		expect(parseScope("garbage nocolon:")).toEqual([]);
	});
});

describe("failed-login limiter", () => {
	it("blocks an address after `limit` failures until the window ends", () => {
		let now = 0;
		const limiter = new FailureLimiter({ limit: 3, window: 60_000, now: () => now });
		limiter.fail("a");
		limiter.fail("a");
		expect(limiter.retryAfter("a")).toBeUndefined();
		limiter.fail("a");
		expect(limiter.retryAfter("a")).toBe(60);
		expect(limiter.retryAfter("b")).toBeUndefined();
		now = 59_500;
		expect(limiter.retryAfter("a")).toBe(1);
		now = 60_000;
		expect(limiter.retryAfter("a")).toBeUndefined();
		limiter.fail("a");
		expect(limiter.retryAfter("a")).toBeUndefined();
	});

	it("remembers a bounded number of addresses; limit 0 disables it", () => {
		const limiter = new FailureLimiter({ limit: 1, window: 60_000, maxClients: 100 });
		for (let i = 0; i < 1000; i++) limiter.fail(`10.0.${i >> 8}.${i & 255}`);
		expect(limiter.size).toBeLessThanOrEqual(100);
		const off = new FailureLimiter({ limit: 0, window: 60_000 });
		off.fail("a");
		expect(off.retryAfter("a")).toBeUndefined();
	});
});

describe("htpasswd", () => {
	let dir: string;
	beforeAll(async () => {
		dir = await mkdtemp(join(tmpdir(), "stowage-htpasswd-"));
	});
	afterAll(async () => {
		await rm(dir, { recursive: true, force: true });
	});

	it("parses bcrypt entries, skips comments and other hash formats", () => {
		const hash = bcrypt.hashSync("pw", 4);
		const { users, skipped } = parseHtpasswd(
			`# comment\n\nalice:${hash}\r\nbob:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\ncarol:$apr1$x$y\n:${hash}\n`,
		);
		expect([...users.keys()]).toEqual(["alice"]);
		expect(skipped).toEqual(["bob", "carol", "(a line without a user name)"]);
	});

	it("parses Basic credentials; a password may hold colons", () => {
		expect(parseBasic(basic("alice", "a:b:c"))).toEqual({ user: "alice", password: "a:b:c" });
		expect(parseBasic("Bearer abc")).toBeUndefined();
		expect(parseBasic(`Basic ${Buffer.from("nocolon").toString("base64")}`)).toBeUndefined();
	});

	it.skipIf(missing.length > 0)(
		"verifies a file written by htpasswd -B and picks up changes without a restart",
		async () => {
			const path = join(dir, "users");
			htpasswdFile(path, { alice: "wonderland", bob: "builder" });
			const controller = new HtpasswdController({ realm: "Stowage", path });
			await controller.load();
			expect(await controller.verify("alice", "wonderland")).toBe(true);
			expect(await controller.verify("alice", "wonderland")).toBe(true); // cached
			expect(await controller.verify("alice", "Wonderland")).toBe(false);
			expect(await controller.verify("nobody", "wonderland")).toBe(false);
			expect(await controller.verify("bob", "builder")).toBe(true);

			// A new password for alice, bob removed, carol added: no restart.
			htpasswdFile(path, { alice: "looking-glass", carol: "singer" });
			expect(await controller.verify("alice", "wonderland")).toBe(false);
			expect(await controller.verify("alice", "looking-glass")).toBe(true);
			expect(await controller.verify("bob", "builder")).toBe(false);
			expect(await controller.verify("carol", "singer")).toBe(true);

			// The file gone: every login fails (closed), until it is back.
			await unlink(path);
			expect(await controller.verify("alice", "looking-glass")).toBe(false);
			htpasswdFile(path, { alice: "back" });
			expect(await controller.verify("alice", "back")).toBe(true);
		},
	);

	it("answers Basic challenges with the realm", async () => {
		const path = join(dir, "challenge");
		await writeFile(path, `alice:${bcrypt.hashSync("pw", 4)}\n`);
		const controller = new HtpasswdController({ realm: 'My "Registry"', path });
		await controller.load();
		const required = { needed: [], wanted: [] };
		const req = (authorization?: string) => ({
			authorization,
			host: undefined,
			forwardedProto: undefined,
		});
		const none = await controller.authorize(req(), required);
		expect(none).toMatchObject({ ok: false, reason: "missing" });
		expect(!none.ok && none.challenge).toBe('Basic realm="My \\"Registry\\""');
		expect(await controller.authorize(req(basic("alice", "no")), required)).toMatchObject({
			ok: false,
			reason: "invalid",
		});
		const ok = await controller.authorize(req(basic("alice", "pw")), required);
		expect(ok.ok && ok.grant.user).toBe("alice");
	});

	it("a missing file stops start-up", async () => {
		const controller = new HtpasswdController({ realm: "r", path: join(dir, "nope") });
		await expect(controller.load()).rejects.toThrow(ConfigError);
	});
});

describe.skipIf(missing.length > 0)("token verification", () => {
	let dir: string;
	let pki: Pki;
	let signer: TokenSigner;
	let other: TokenSigner;
	let controller: TokenController;
	const settings = {
		realm: "https://auth.example.com/token",
		service: "stowage.test",
		issuer: "test-issuer",
		autoRedirect: false,
		autoRedirectPath: "/auth/token",
		signingAlgorithms: ["ES256", "RS256"],
	};
	const good = { iss: "test-issuer", aud: "stowage.test", sub: "alice" };
	const pullA = { type: "repository", name: "a", action: "pull" };

	beforeAll(async () => {
		dir = await mkdtemp(join(tmpdir(), "stowage-token-"));
		pki = makePki(dir);
		signer = await TokenSigner.fromFiles(pki.signingKey, pki.signingCert);
		other = await TokenSigner.fromFiles(pki.otherKey);
		controller = await TokenController.create({ ...settings, rootCertBundle: pki.signingCert });
	});
	afterAll(async () => {
		await rm(dir, { recursive: true, force: true });
	});

	const reject = async (token: string, reason: RegExp) => {
		await expect(controller.verify(token)).rejects.toThrow(TokenRejected);
		await expect(controller.verify(token)).rejects.toThrow(reason);
	};

	it("accepts a token naming its key by thumbprint, libtrust id, x5c or jwk", async () => {
		const access = [{ type: "repository", name: "a", actions: ["pull"] }];
		const byKid = await controller.verify(await signer.sign({ ...good, access }));
		expect(byKid.allows(pullA)).toBe(true);
		expect(byKid.allows({ ...pullA, action: "push" })).toBe(false);
		expect(byKid.allows({ ...pullA, name: "b" })).toBe(false);
		expect(byKid.user).toBe("alice");
		const libtrust = libtrustKeyId(signer.certificate?.publicKey as never);
		expect(libtrust).toMatch(/^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$/);
		for (const header of [{ kid: libtrust }, { x5c: signer.x5c() }, { jwk: signer.publicJwk }]) {
			const grant = await controller.verify(await signer.sign({ ...good, access }, header));
			expect(grant.allows(pullA)).toBe(true);
		}
	});

	it("`*` grants every action on its resource, and only there", async () => {
		const grant = await controller.verify(
			await signer.sign({
				...good,
				access: [
					{ type: "repository", name: "a", actions: ["*"] },
					{ type: "registry", name: "catalog", actions: ["*"] },
				],
			}),
		);
		for (const action of ["pull", "push", "delete"]) {
			expect(grant.allows({ ...pullA, action })).toBe(true);
		}
		expect(grant.allows({ ...pullA, name: "a/b" })).toBe(false);
		expect(grant.allows({ type: "registry", name: "catalog", action: "*" })).toBe(true);
		// A catalog grant for one action is not `*`.
		const partial = await controller.verify(
			await signer.sign({
				...good,
				access: [{ type: "registry", name: "catalog", actions: ["pull"] }],
			}),
		);
		expect(partial.allows({ type: "registry", name: "catalog", action: "*" })).toBe(false);
	});

	it("accepts an audience list holding the service; no access claim grants nothing", async () => {
		const grant = await controller.verify(
			await signer.sign({ ...good, aud: ["other", "stowage.test"] }),
		);
		expect(grant.allows(pullA)).toBe(false);
	});

	it("rejects expired and not-yet-valid tokens (60 s leeway)", async () => {
		const now = Math.floor(Date.now() / 1000);
		await reject(await signer.sign({ ...good, exp: now - 120 }), /token expired/);
		await reject(await signer.sign({ ...good, nbf: now + 600 }), /not valid yet/);
		await controller.verify(await signer.sign({ ...good, exp: now - 30 }));
	});

	it("rejects the wrong issuer and the wrong audience", async () => {
		await reject(await signer.sign({ ...good, iss: "mallory" }), /untrusted issuer/);
		await reject(await signer.sign({ ...good, aud: "other-registry" }), /another service/);
	});

	it("rejects missing claims: exp, iss, aud", async () => {
		await reject(await signer.sign({ ...good, exp: undefined }), /lacks the "exp" claim/);
		await reject(await signer.sign({ aud: good.aud }), /lacks the "iss" claim/);
		await reject(await signer.sign({ iss: good.iss }), /lacks the "aud" claim/);
	});

	it("rejects a token signed by another key, under our kid or its own", async () => {
		await reject(await other.sign(good, { kid: signer.kid }), /signature does not verify/);
		await reject(await other.sign(good), /untrusted key/);
		await reject(await other.sign(good, { jwk: other.publicJwk }), /untrusted key/);
		await reject(await signer.sign(good, {}), /names no key/);
	});

	it("rejects an x5c chain that does not lead to the root bundle", async () => {
		const client = new (await import("node:crypto")).X509Certificate(
			await (await import("node:fs/promises")).readFile(pki.clientCert),
		);
		await reject(await signer.sign(good, { x5c: [client.raw.toString("base64")] }), /x5c/);
		await reject(await signer.sign(good, { x5c: ["not base64 der"] }), /./);
		expect(() => verifyChain([], [])).toThrow(/malformed/);
	});

	it("rejects a tampered payload", async () => {
		const token = await signer.sign({
			...good,
			access: [{ type: "repository", name: "a", actions: ["pull"] }],
		});
		const forged = tamper(token, {
			...good,
			exp: Math.floor(Date.now() / 1000) + 300,
			access: [{ type: "repository", name: "a", actions: ["pull", "push", "delete"] }],
		});
		await reject(forged, /signature does not verify/);
	});

	it("rejects alg none, disallowed algorithms and garbage", async () => {
		const claims = { ...good, exp: Math.floor(Date.now() / 1000) + 300 };
		await reject(unsignedToken(claims), /not allowed|malformed/);
		const strict = await TokenController.create({
			...settings,
			signingAlgorithms: ["RS256"],
			rootCertBundle: pki.signingCert,
		});
		await expect(strict.verify(await signer.sign(good))).rejects.toThrow(/not allowed/);
		await reject("not.a.token", /malformed/);
		await reject("a.b", /malformed/);
	});

	it("rejects a malformed access claim", async () => {
		const bad = await new SignJWT({ ...good, access: "everything" })
			.setProtectedHeader({ alg: "ES256", kid: signer.kid })
			.setExpirationTime("5m")
			.sign(signer.key);
		await reject(bad, /malformed access claim/);
	});

	it("challenges with the scope needed, and says why a token failed", async () => {
		const required = requiredAccess({ kind: "manifest", name: "a", reference: "v1" }, "PUT", q());
		const req = (authorization?: string) => ({
			authorization,
			host: "registry.local:5000",
			forwardedProto: undefined,
		});
		const none = await controller.authorize(req(), required);
		expect(!none.ok && none.challenge).toBe(
			'Bearer realm="https://auth.example.com/token",service="stowage.test",scope="repository:a:pull,push"',
		);
		const expired = await controller.authorize(
			req(`Bearer ${await signer.sign({ ...good, exp: 1 })}`),
			required,
		);
		expect(expired).toMatchObject({ ok: false, reason: "invalid" });
		expect(!expired.ok && expired.challenge).toMatch(/,error="invalid_token"$/);
		const pullOnly = await controller.authorize(
			req(
				`Bearer ${await signer.sign({ ...good, access: [{ type: "repository", name: "a", actions: ["pull"] }] })}`,
			),
			required,
		);
		expect(pullOnly).toMatchObject({ ok: false, reason: "insufficient" });
		expect(!pullOnly.ok && pullOnly.challenge).toMatch(/,error="insufficient_scope"$/);

		const redirecting = await TokenController.create({
			...settings,
			autoRedirect: true,
			rootCertBundle: pki.signingCert,
		});
		const auto = await redirecting.authorize(req(), required);
		expect(!auto.ok && auto.challenge).toMatch(
			/^Bearer realm="https:\/\/registry\.local:5000\/auth\/token",/,
		);
	});

	it("needs a key to start", async () => {
		await expect(TokenController.create(settings)).rejects.toThrow(/at least one signing key/);
		await expect(
			TokenController.create({ ...settings, rootCertBundle: join(dir, "missing.pem") }),
		).rejects.toThrow(/cannot read/);
		await writeFile(join(dir, "empty.pem"), "nothing here");
		await expect(
			TokenController.create({ ...settings, rootCertBundle: join(dir, "empty.pem") }),
		).rejects.toThrow(/no PEM certificate/);
	});
});

describe("token keys from a JWK set", () => {
	const settings = {
		realm: "https://auth.example.com/token",
		service: "svc",
		issuer: "iss",
		autoRedirect: false,
		autoRedirectPath: "/auth/token",
		signingAlgorithms: ["RS256", "ES256", "EdDSA"],
	};

	it("from a file: by kid", async () => {
		const dir = await mkdtemp(join(tmpdir(), "stowage-jwks-"));
		try {
			const { publicKey, privateKey } = await generateKeyPair("RS256");
			const jwk = { ...(await exportJWK(publicKey)), kid: "key-1", alg: "RS256" };
			await writeFile(join(dir, "jwks.json"), JSON.stringify({ keys: [jwk] }));
			const controller = await TokenController.create({
				...settings,
				jwks: join(dir, "jwks.json"),
			});
			const sign = (kid: string) =>
				new SignJWT({ iss: "iss", aud: "svc" })
					.setProtectedHeader({ alg: "RS256", kid })
					.setExpirationTime("5m")
					.sign(privateKey);
			await controller.verify(await sign("key-1"));
			await expect(controller.verify(await sign("key-2"))).rejects.toThrow(/untrusted key/);
		} finally {
			await rm(dir, { recursive: true, force: true });
		}
	});

	it("from a URL: fetched, and an unknown kid is refused", async () => {
		const { publicKey, privateKey } = await generateKeyPair("EdDSA");
		const jwk = { ...(await exportJWK(publicKey)), kid: "ed-1" };
		const server = createServer((_req, res) => {
			res.writeHead(200, { "content-type": "application/json" });
			res.end(JSON.stringify({ keys: [jwk] }));
		});
		await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
		try {
			const port = (server.address() as { port: number }).port;
			const controller = await TokenController.create({
				...settings,
				jwks: `http://127.0.0.1:${port}/jwks.json`,
			});
			const sign = (kid: string) =>
				new SignJWT({ iss: "iss", aud: "svc" })
					.setProtectedHeader({ alg: "EdDSA", kid })
					.setExpirationTime("5m")
					.sign(privateKey);
			await controller.verify(await sign("ed-1"));
			await expect(controller.verify(await sign("ed-9"))).rejects.toThrow(/untrusted key/);
		} finally {
			server.close();
		}
	});
});

describe("auth and http.tls configuration", () => {
	const load = async (text: string, env: NodeJS.ProcessEnv = {}) => {
		const dir = await mkdtemp(join(tmpdir(), "stowage-config-"));
		const path = join(dir, "config.yml");
		await writeFile(path, text);
		try {
			return loadConfig(path, env);
		} finally {
			await rm(dir, { recursive: true, force: true });
		}
	};

	it("reads auth.htpasswd, auth.ratelimit and http.tls", async () => {
		const c = await load(`
auth:
  htpasswd:
    realm: Stowage
    path: /etc/stowage/htpasswd
  ratelimit:
    failures: 5
    window: 5m
http:
  tls:
    certificate: /etc/stowage/tls.crt
    key: /etc/stowage/tls.key
    clientcas: [/etc/stowage/clients.pem]
    minimumtls: tls1.3
`);
		expect(c.auth).toEqual({
			htpasswd: { realm: "Stowage", path: "/etc/stowage/htpasswd" },
			failures: 5,
			window: 300_000,
		});
		expect(c.http.tls).toEqual({
			certificate: "/etc/stowage/tls.crt",
			key: "/etc/stowage/tls.key",
			clientCAs: ["/etc/stowage/clients.pem"],
			clientAuth: "require-and-verify-client-cert",
			minimumTls: "TLSv1.3",
		});
	});

	it("reads auth.token with Distribution's keys", async () => {
		const c = await load(`
auth:
  token:
    realm: https://auth.example.com/token
    service: registry.example.com
    issuer: auth.example.com
    rootcertbundle: /certs/bundle.pem
    jwks: https://auth.example.com/jwks.json
    autoredirect: false
    signingalgorithms: [ES256]
`);
		expect(c.auth?.token).toEqual({
			realm: "https://auth.example.com/token",
			service: "registry.example.com",
			issuer: "auth.example.com",
			rootCertBundle: "/certs/bundle.pem",
			jwks: "https://auth.example.com/jwks.json",
			autoRedirect: false,
			autoRedirectPath: "/auth/token",
			signingAlgorithms: ["ES256"],
		});
		expect(c.auth).toMatchObject({ failures: 10, window: 60_000 });
	});

	it("takes REGISTRY_AUTH_* and REGISTRY_HTTP_TLS_* from the environment", async () => {
		const c = loadConfig(undefined, {
			REGISTRY_AUTH_HTPASSWD_REALM: "Env Realm",
			REGISTRY_AUTH_HTPASSWD_PATH: "/run/htpasswd",
			REGISTRY_HTTP_TLS_CERTIFICATE: "/run/tls.crt",
			REGISTRY_HTTP_TLS_KEY: "/run/tls.key",
		});
		expect(c.auth?.htpasswd).toEqual({ realm: "Env Realm", path: "/run/htpasswd" });
		expect(c.http.tls).toMatchObject({ certificate: "/run/tls.crt", key: "/run/tls.key" });
		expect(loadConfig(undefined, {}).auth).toBeUndefined();
	});

	it.each([
		["auth:\n  ratelimit:\n    failures: 3\n", /configure one of auth\.htpasswd or auth\.token/],
		[
			"auth:\n  htpasswd: {realm: r, path: /p}\n  token: {realm: 'https://a/t', service: s, issuer: i, jwks: /j}\n",
			/not both/,
		],
		["auth:\n  htpasswd:\n    path: /p\n", /auth\.htpasswd\.realm is required/],
		[
			"auth:\n  token:\n    realm: https://a/t\n    service: s\n    issuer: i\n",
			/rootcertbundle or jwks/,
		],
		["auth:\n  token:\n    realm: not a url\n", /auth\.token\.realm: expected an http\(s\) URL/],
		[
			"auth:\n  token: {realm: 'https://a/t', service: s, issuer: i, jwks: /j, signingalgorithms: [HS256]}\n",
			/signingalgorithms: "HS256" is not supported/,
		],
		["auth:\n  token:\n    signingalgorithms: RS256\n", /expected a list of strings/],
		["auth:\n  silly:\n    realm: x\n", /auth\.silly: the silly access controller/],
		["auth:\n  ldap: {}\n", /unknown configuration key auth\.ldap/],
		["http:\n  tls:\n    key: /k\n", /http\.tls\.certificate is required/],
		[
			"http:\n  tls: {certificate: /c, key: /k, minimumtls: tls1.0}\n",
			/minimumtls: expected tls1\.2/,
		],
		["http:\n  tls: {certificate: /c, key: /k, clientauth: maybe}\n", /clientauth: expected/],
		["http:\n  tls:\n    ciphersuites: [x]\n", /ciphersuites: cipher suites are not configurable/],
		["http:\n  tls:\n    letsencrypt: {email: a}\n", /letsencrypt: Let's Encrypt is not supported/],
	])("refuses %j", async (text, message) => {
		await expect(load(text)).rejects.toThrow(ConfigError);
		await expect(load(text)).rejects.toThrow(message);
	});
});
