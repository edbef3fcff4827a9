export { inCI } from "./support/ci.js";

/**
 * Test PKI, tokens and a token server, all made in the test: a CA (openssl CLI), a server
 * certificate for 127.0.0.1, a client certificate for mTLS, a token-signing key with its
 * certificate, and a small Docker token issuer over HTTPS.
 */
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import { join } from "node:path";
import {
	type CryptoKey,
	calculateJwkThumbprint,
	exportJWK,
	importPKCS8,
	type JWK,
	SignJWT,
} from "jose";
import { Agent, request } from "undici";
import { parseBasic } from "../src/auth/htpasswd.js";
import { parseScope } from "../src/auth/scopes.js";
import type { Response } from "./helpers.js";
import { inCI } from "./support/ci.js";

export interface Pki {
	dir: string;
	caCert: string;
	serverCert: string;
	serverKey: string;
	clientCert: string;
	clientKey: string;
	/** A client certificate from a CA the server does not trust. */
	strangerCert: string;
	strangerKey: string;
	/** The token-signing key (ES256) and its self-signed certificate (the rootcertbundle). */
	signingKey: string;
	signingCert: string;
	/** Another key, trusted by nobody. */
	otherKey: string;
}

function openssl(dir: string, ...args: string[]): void {
	execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
}

function ecKey(dir: string, name: string): void {
	openssl(dir, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", name);
}

function selfSigned(dir: string, key: string, cert: string, cn: string, ca: boolean): void {
	const ext = ca
		? ["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"]
		: [];
	openssl(
		dir,
		"req",
		"-x509",
		"-new",
		"-key",
		key,
		"-out",
		cert,
		"-days",
		"2",
		"-subj",
		`/CN=${cn}`,
		...ext,
	);
}

function issue(dir: string, ca: string, name: string, cn: string, extensions: string): void {
	ecKey(dir, `${name}.key`);
	openssl(dir, "req", "-new", "-key", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`);
	writeFileSync(join(dir, `${name}.ext`), extensions);
	openssl(
		dir,
		"x509",
		"-req",
		"-in",
		`${name}.csr`,
		"-CA",
		`${ca}.crt`,
		"-CAkey",
		`${ca}.key`,
		"-CAcreateserial",
		"-out",
		`${name}.crt`,
		"-days",
		"2",
		"-extfile",
		`${name}.ext`,
	);
}

/** Everything under `dir`; needs the openssl CLI. */
export function makePki(dir: string): Pki {
	ecKey(dir, "ca.key");
	selfSigned(dir, "ca.key", "ca.crt", "Stowage test CA", true);
	issue(
		dir,
		"ca",
		"server",
		"127.0.0.1",
		"subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
	);
	issue(dir, "ca", "client", "test client", "extendedKeyUsage=clientAuth\n");
	ecKey(dir, "stranger-ca.key");
	selfSigned(dir, "stranger-ca.key", "stranger-ca.crt", "Stranger CA", true);
	issue(dir, "stranger-ca", "stranger", "stranger", "extendedKeyUsage=clientAuth\n");
	ecKey(dir, "signing.key");
	selfSigned(dir, "signing.key", "signing.crt", "Stowage test token signer", false);
	ecKey(dir, "other.key");
	const p = (name: string) => join(dir, name);
	return {
		dir,
		caCert: p("ca.crt"),
		serverCert: p("server.crt"),
		serverKey: p("server.key"),
		clientCert: p("client.crt"),
		clientKey: p("client.key"),
		strangerCert: p("stranger.crt"),
		strangerKey: p("stranger.key"),
		signingKey: p("signing.key"),
		signingCert: p("signing.crt"),
		otherKey: p("other.key"),
	};
}

export interface AccessEntry {
	type: string;
	name: string;
	actions: string[];
}

/** Signs tokens the way a token server does, with knobs to break them. */
export class TokenSigner {
	private constructor(
		readonly key: CryptoKey,
		/** RFC 7638 thumbprint of the public key: the kid Distribution v3 looks up. */
		readonly kid: string,
		readonly publicJwk: JWK,
		readonly certificate: X509Certificate | undefined,
	) {}

	static async fromFiles(keyPath: string, certPath?: string): Promise<TokenSigner> {
		const key = await importPKCS8(readFileSync(keyPath, "utf8"), "ES256", { extractable: true });
		const jwk = await exportJWK(key);
		const publicJwk: JWK = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y } as JWK;
		const kid = await calculateJwkThumbprint(publicJwk, "sha256");
		const cert = certPath ? new X509Certificate(readFileSync(certPath)) : undefined;
		return new TokenSigner(key, kid, publicJwk, cert);
	}

	async sign(
		claims: {
			iss?: string;
			aud?: string | string[];
			sub?: string;
			access?: AccessEntry[];
			exp?: number;
			nbf?: number;
		},
		header: { kid?: string; x5c?: string[]; jwk?: JWK } = { kid: this.kid },
	): Promise<string> {
		const now = Math.floor(Date.now() / 1000);
		const body: Record<string, unknown> = { iat: now, ...claims };
		if (!("exp" in claims)) body.exp = now + 300;
		if (body.exp === undefined) delete body.exp;
		return new SignJWT(body)
			.setProtectedHeader({ alg: "ES256", typ: "JWT", ...header })
			.sign(this.key);
	}

	/** The certificate as an x5c header value. */
	x5c(): string[] {
		if (!this.certificate) throw new Error("no certificate");
		return [this.certificate.raw.toString("base64")];
	}
}

/** An unsigned token (`alg: none`). */
export function unsignedToken(claims: Record<string, unknown>): string {
	const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
	return `${enc({ alg: "none", typ: "JWT" })}.${enc(claims)}.`;
}

/** Replace a token's payload, keeping header and signature. */
export function tamper(token: string, claims: Record<string, unknown>): string {
	const [header, , signature] = token.split(".");
	return `${header}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${signature}`;
}

export interface TokenIssuer {
	url: string;
	/** Every scope asked for, in order. */
	requests: { user: string | undefined; scopes: string[] }[];
	close(): Promise<void>;
}

/**
 * A Docker token server: GET /token?service=&scope=..., Basic credentials checked against
 * `users`; each user's `policy` decides which asked-for actions are granted.
 */
export async function startTokenIssuer(options: {
	pki: Pki;
	signer: TokenSigner;
	issuer: string;
	service: string;
	users: Record<string, string>;
	policy: (user: string | undefined, access: AccessEntry) => string[];
}): Promise<TokenIssuer> {
	const requests: TokenIssuer["requests"] = [];
	const server: Server = createServer(
		{ cert: readFileSync(options.pki.serverCert), key: readFileSync(options.pki.serverKey) },
		(req, res) => {
			void (async () => {
				const url = new URL(req.url ?? "/", "https://localhost");
				const basic = parseBasic(req.headers.authorization);
				if (basic && options.users[basic.user] !== basic.password) {
					res.writeHead(401, { "content-type": "application/json" });
					res.end(JSON.stringify({ details: "bad credentials" }));
					return;
				}
				const user = basic?.user;
				const scopes = url.searchParams.getAll("scope");
				requests.push({ user, scopes });
				if (url.pathname !== "/token" || url.searchParams.get("service") !== options.service) {
					res.writeHead(400).end();
					return;
				}
				const asked = new Map<string, AccessEntry>();
				for (const a of scopes.flatMap((s) => parseScope(s))) {
					const k = `${a.type}:${a.name}`;
					const entry = asked.get(k) ?? { type: a.type, name: a.name, actions: [] };
					entry.actions.push(a.action);
					asked.set(k, entry);
				}
				const access = [...asked.values()]
					.map((a) => ({ ...a, actions: options.policy(user, a) }))
					.filter((a) => a.actions.length > 0);
				const token = await options.signer.sign({
					iss: options.issuer,
					aud: options.service,
					...(user ? { sub: user } : {}),
					access,
				});
				res.writeHead(200, { "content-type": "application/json" });
				res.end(
					JSON.stringify({
						token,
						access_token: token,
						expires_in: 300,
						issued_at: new Date().toISOString(),
					}),
				);
			})().catch((err) => {
				res.writeHead(500).end(String(err));
			});
		},
	);
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	const address = server.address();
	if (typeof address !== "object" || !address) throw new Error("no address");
	return {
		url: `https://127.0.0.1:${address.port}/token`,
		requests,
		close: () => new Promise((resolve) => server.close(() => resolve())),
	};
}

/** An HTTPS request trusting the test CA, optionally with a client certificate. */
export async function httpsRequest(
	url: string,
	options: {
		ca: string;
		cert?: string;
		key?: string;
		method?: string;
		headers?: Record<string, string>;
		body?: string | Buffer;
	},
): Promise<Response> {
	const dispatcher = new Agent({
		connect: {
			ca: readFileSync(options.ca),
			...(options.cert ? { cert: readFileSync(options.cert) } : {}),
			...(options.key ? { key: readFileSync(options.key) } : {}),
		},
	});
	try {
		const res = await request(url, {
			method: (options.method ?? "GET") as "GET",
			headers: options.headers,
			body: options.body ?? null,
			dispatcher,
		});
		const body = Buffer.from(await res.body.arrayBuffer());
		const headers: Record<string, string> = {};
		for (const [k, v] of Object.entries(res.headers)) {
			headers[k] = Array.isArray(v) ? v.join(", ") : String(v);
		}
		const text = body.toString("utf8");
		return { status: res.statusCode, headers, body, text, json: () => JSON.parse(text) };
	} finally {
		await dispatcher.close();
	}
}

/** An htpasswd file written by Debian's `htpasswd -B` (apache2-utils). */
export function htpasswdFile(path: string, users: Record<string, string>, cost = 5): void {
	let first = true;
	for (const [user, password] of Object.entries(users)) {
		const args = [first ? "-cbB" : "-bB", "-C", String(cost), path, user, password];
		execFileSync("htpasswd", args, { stdio: "pipe" });
		first = false;
	}
}

export function basic(user: string, password: string): string {
	return `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
}

/** Tools a suite needs: under CI a missing one fails the suite, elsewhere it is skipped. */
export function missingTools(tools: string[]): string[] {
	const missing = tools.filter((tool) => {
		try {
			execFileSync(tool, tool === "openssl" ? ["version"] : ["--version"], { stdio: "pipe" });
			return false;
		} catch (err) {
			// `htpasswd` has no --version: it answers usage with a non-zero status, but it ran.
			return (err as { code?: string }).code === "ENOENT";
		}
	});
	if (missing.length > 0 && !inCI) {
		console.warn(`\n*** tests needing ${missing.join(", ")} SKIPPED: not installed ***\n`);
	}
	return missing;
}
