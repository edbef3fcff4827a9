/**
 * http.tls through the real start-up path (config file → serve): HTTPS with a test CA, client
 * certificates (both clientauth modes), minimumtls, garbage on the TLS port, and auth on top.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import bcrypt from "bcryptjs";
import { pino } from "pino";
import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { type RunningServer, serve } from "../src/serve.js";
import { basic, httpsRequest, inCI, makePki, missingTools, type Pki } from "./auth-fixtures.js";

const missing = missingTools(["openssl"]);

describe("tools for the TLS tests", () => {
	it.runIf(inCI)("openssl is installed (required under CI)", () => {
		expect(missing).toEqual([]);
	});
});

describe.skipIf(missing.length > 0)("HTTPS", () => {
	let dir: string;
	let pki: Pki;
	const running: RunningServer[] = [];

	beforeAll(async () => {
		dir = await mkdtemp(join(tmpdir(), "stowage-tls-"));
		pki = makePki(dir);
	});
	afterAll(async () => {
		for (const server of running) await server.close();
		await rm(dir, { recursive: true, force: true });
	});

	/** Start from a config file, as `stowage serve config.yml` does; `extra` goes under http.tls. */
	async function startTls(extra = "", more = ""): Promise<string> {
		const path = join(dir, `config-${running.length}.yml`);
		await writeFile(
			path,
			`http:\n  addr: 127.0.0.1:0\n  tls:\n    certificate: ${pki.serverCert}\n    key: ${pki.serverKey}\n${extra}storage:\n  inmemory: {}\nlog:\n  level: error\n${more}`,
		);
		const server = await serve(loadConfig(path, {}), { logger: pino({ level: "silent" }) });
		running.push(server);
		return `https://${server.address}`;
	}

	it("serves the API over HTTPS to a client trusting the CA", async () => {
		const url = await startTls();
		const res = await httpsRequest(`${url}/v2/`, { ca: pki.caCert });
		expect(res.status).toBe(200);
		expect(res.headers["docker-distribution-api-version"]).toBe("registry/2.0");
		// A client that does not trust the CA refuses the server.
		await expect(request(`${url}/v2/`)).rejects.toThrow(/certificate/i);
	});

	it("survives plain HTTP and garbage on the TLS port", async () => {
		const url = await startTls();
		const port = Number(new URL(url).port);
		for (const payload of ["GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n", "\x16\x03\x01garbage\r\n\r\n"]) {
			await new Promise<void>((resolve) => {
				const socket = connect(port, "127.0.0.1", () => socket.end(payload));
				socket.on("error", () => resolve());
				socket.on("close", () => resolve());
				socket.resume();
			});
		}
		await expect(request(url.replace("https:", "http:"))).rejects.toThrow();
		expect((await httpsRequest(`${url}/v2/`, { ca: pki.caCert })).status).toBe(200);
	});

	it("mTLS: clientcas requires a client certificate from those CAs", async () => {
		const url = await startTls(`    clientcas:\n      - ${pki.caCert}\n`);
		const ok = await httpsRequest(`${url}/v2/`, {
			ca: pki.caCert,
			cert: pki.clientCert,
			key: pki.clientKey,
		});
		expect(ok.status).toBe(200);
		await expect(httpsRequest(`${url}/v2/`, { ca: pki.caCert })).rejects.toThrow();
		await expect(
			httpsRequest(`${url}/v2/`, { ca: pki.caCert, cert: pki.strangerCert, key: pki.strangerKey }),
		).rejects.toThrow();
	});

	it("clientauth verify-client-cert-if-given: no certificate is fine, a bad one is not", async () => {
		const url = await startTls(
			`    clientcas: [${pki.caCert}]\n    clientauth: verify-client-cert-if-given\n`,
		);
		expect((await httpsRequest(`${url}/v2/`, { ca: pki.caCert })).status).toBe(200);
		const ok = await httpsRequest(`${url}/v2/`, {
			ca: pki.caCert,
			cert: pki.clientCert,
			key: pki.clientKey,
		});
		expect(ok.status).toBe(200);
		await expect(
			httpsRequest(`${url}/v2/`, { ca: pki.caCert, cert: pki.strangerCert, key: pki.strangerKey }),
		).rejects.toThrow();
	});

	it("minimumtls tls1.3 refuses a TLS 1.2 client", async () => {
		const url = await startTls("    minimumtls: tls1.3\n");
		const old = new Agent({ connect: { ca: readFileSync(pki.caCert), maxVersion: "TLSv1.2" } });
		try {
			await expect(request(`${url}/v2/`, { dispatcher: old })).rejects.toThrow();
		} finally {
			await old.close();
		}
		expect((await httpsRequest(`${url}/v2/`, { ca: pki.caCert })).status).toBe(200);
	});

	it("auth and TLS together from one config file", async () => {
		const htpasswd = join(dir, "htpasswd");
		await writeFile(htpasswd, `alice:${bcrypt.hashSync("pw", 4)}\n`);
		const url = await startTls(
			"",
			`auth:\n  htpasswd:\n    realm: Stowage\n    path: ${htpasswd}\n`,
		);
		const anonymous = await httpsRequest(`${url}/v2/`, { ca: pki.caCert });
		expect(anonymous.status).toBe(401);
		expect(anonymous.headers["www-authenticate"]).toBe('Basic realm="Stowage"');
		const ok = await httpsRequest(`${url}/v2/`, {
			ca: pki.caCert,
			headers: { authorization: basic("alice", "pw") },
		});
		expect(ok.status).toBe(200);
		// /healthz stays open for load balancers.
		expect((await httpsRequest(`${url}/healthz`, { ca: pki.caCert })).status).toBe(200);
	});

	it("a missing certificate file stops start-up naming the key", async () => {
		const path = join(dir, "bad.yml");
		await writeFile(
			path,
			`http:\n  addr: 127.0.0.1:0\n  tls:\n    certificate: ${join(dir, "nope.crt")}\n    key: ${pki.serverKey}\nstorage:\n  inmemory: {}\n`,
		);
		await expect(serve(loadConfig(path, {}))).rejects.toThrow(
			/http\.tls\.certificate: cannot read/,
		);
	});
});
