/**
 * Real clients against auth and TLS: `podman login` / `skopeo --creds` against htpasswd (a file
 * written by Debian's `htpasswd -B`), skopeo against token auth with a token issuer run here, and
 * skopeo with a client certificate (mTLS); everything over TLS with a test CA and
 * --tls-verify=true. Under CI a missing tool fails the suite; elsewhere the suite is skipped.
 */
import { execFile } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { type RunningServer, serve } from "../src/serve.js";
import {
	htpasswdFile,
	inCI,
	makePki,
	missingTools,
	type Pki,
	startTokenIssuer,
	type TokenIssuer,
	TokenSigner,
} from "./auth-fixtures.js";

const run = promisify(execFile);
const TOOLS = ["skopeo", "podman", "umoci", "htpasswd", "openssl"];
const missing = missingTools(TOOLS);

describe("tools for the auth client tests", () => {
	it.runIf(inCI)("skopeo, podman, umoci, htpasswd and openssl are installed (CI)", () => {
		expect(missing, `missing: ${missing.join(", ")}`).toEqual([]);
	});
});

describe.skipIf(missing.length > 0)("real clients with auth over TLS", () => {
	let dir: string;
	let pki: Pki;
	/** certs.d-style directories: the CA only, and the CA plus a client certificate. */
	let certs: string;
	let clientCerts: string;
	let authFile: string;
	let imageDigest: string;
	const servers: RunningServer[] = [];
	let issuer: TokenIssuer;

	async function sh(cmd: string, args: string[]): Promise<string> {
		try {
			const { stdout } = await run(cmd, args, {
				cwd: dir,
				timeout: 120_000,
				maxBuffer: 16 << 20,
				// Credentials come from the flags or this file only, never from the host's.
				env: { ...process.env, REGISTRY_AUTH_FILE: authFile },
			});
			return stdout;
		} catch (err) {
			const e = err as { stderr?: string; message: string };
			throw new Error(`${cmd} ${args.join(" ")} failed: ${e.stderr || e.message}`);
		}
	}
	const skopeo = (...args: string[]) => sh("skopeo", args);
	const podman = (...args: string[]) =>
		sh("podman", [
			"--storage-driver",
			"vfs",
			"--root",
			join(dir, "podman", "root"),
			"--runroot",
			join(dir, "podman", "run"),
			"--cgroup-manager",
			"cgroupfs",
			"--events-backend",
			"none",
			...args,
		]);

	async function start(yaml: string): Promise<string> {
		const path = join(dir, `config-${servers.length}.yml`);
		await writeFile(path, yaml);
		const server = await serve(loadConfig(path, {}), { logger: pino({ level: "error" }) });
		servers.push(server);
		return server.address;
	}
	const tlsYaml = (extra = "") =>
		`http:\n  addr: 127.0.0.1:0\n  tls:\n    certificate: ${pki.serverCert}\n    key: ${pki.serverKey}\n${extra}` +
		`storage:\n  filesystem:\n    rootdirectory: ${join(dir, `registry-${servers.length}`)}\n  delete:\n    enabled: true\n`;

	beforeAll(async () => {
		dir = await mkdtemp(join(tmpdir(), "stowage-e2e-auth-"));
		authFile = join(dir, "auth.json");
		pki = makePki(dir);
		certs = join(dir, "certs");
		clientCerts = join(dir, "client-certs");
		await mkdir(certs);
		await mkdir(clientCerts);
		// containers/image: *.crt are CAs; a *.cert with its *.key is the client certificate.
		await copyFile(pki.caCert, join(certs, "ca.crt"));
		await copyFile(pki.caCert, join(clientCerts, "ca.crt"));
		await copyFile(pki.clientCert, join(clientCerts, "client.cert"));
		await copyFile(pki.clientKey, join(clientCerts, "client.key"));

		await sh("umoci", ["init", "--layout", "L"]);
		await sh("umoci", ["new", "--image", "L:latest"]);
		await sh("umoci", ["unpack", "--rootless", "--image", "L:latest", "B"]);
		await writeFile(join(dir, "B", "rootfs", "hello.txt"), "hello through TLS and auth\n");
		await sh("umoci", ["repack", "--image", "L:latest", "B"]);
		await sh("umoci", [
			"config",
			"--image",
			"L:latest",
			"--os",
			"linux",
			"--architecture",
			"amd64",
		]);
		const index = JSON.parse(await readFile(join(dir, "L", "index.json"), "utf8"));
		imageDigest = index.manifests[0].digest;
	}, 120_000);

	afterAll(async () => {
		for (const server of servers) await server.close();
		await issuer?.close();
		if (dir) await rm(dir, { recursive: true, force: true });
	});

	describe("htpasswd", () => {
		let host: string;
		beforeAll(async () => {
			const users = join(dir, "htpasswd");
			htpasswdFile(users, { alice: "wonderland" });
			host = await start(tlsYaml(`auth:\n  htpasswd:\n    realm: Stowage\n    path: ${users}\n`));
		});

		it("skopeo --creds pushes and inspects with --tls-verify=true; no or bad creds fail", async () => {
			await skopeo(
				"copy",
				"--dest-tls-verify=true",
				"--dest-cert-dir",
				certs,
				"--dest-creds",
				"alice:wonderland",
				"oci:L:latest",
				`docker://${host}/e2e/htpasswd:v1`,
			);
			const inspect = JSON.parse(
				await skopeo(
					"inspect",
					"--tls-verify=true",
					"--cert-dir",
					certs,
					"--creds",
					"alice:wonderland",
					`docker://${host}/e2e/htpasswd:v1`,
				),
			);
			expect(inspect.Digest).toBe(imageDigest);
			const image = `docker://${host}/e2e/htpasswd:v1`;
			await expect(
				skopeo("inspect", "--tls-verify=true", "--cert-dir", certs, image),
			).rejects.toThrow(/unauthorized|authentication required/i);
			await expect(
				skopeo("inspect", "--tls-verify=true", "--cert-dir", certs, "--creds", "alice:x", image),
			).rejects.toThrow(/unauthorized|invalid username or password/i);
			// Without the CA, --tls-verify=true refuses the server.
			await expect(
				skopeo("inspect", "--tls-verify=true", "--creds", "alice:wonderland", image),
			).rejects.toThrow(/certificate|x509/i);
		}, 120_000);

		it("podman login, then pull and push with --tls-verify=true", async () => {
			await expect(
				podman(
					"login",
					"--tls-verify=true",
					"--cert-dir",
					certs,
					"--authfile",
					authFile,
					"-u",
					"alice",
					"-p",
					"wrong",
					host,
				),
			).rejects.toThrow(/invalid username\/password/i);
			await podman(
				"login",
				"--tls-verify=true",
				"--cert-dir",
				certs,
				"--authfile",
				authFile,
				"-u",
				"alice",
				"-p",
				"wonderland",
				host,
			);
			await podman(
				"pull",
				"--tls-verify=true",
				"--cert-dir",
				certs,
				"--authfile",
				authFile,
				`${host}/e2e/htpasswd:v1`,
			);
			const digestFile = join(dir, "podman.digest");
			await podman(
				"push",
				"--tls-verify=true",
				"--cert-dir",
				certs,
				"--authfile",
				authFile,
				"--digestfile",
				digestFile,
				`${host}/e2e/htpasswd:v1`,
				`docker://${host}/e2e/podman:v1`,
			);
			const pushed = (await readFile(digestFile, "utf8")).trim();
			const inspect = JSON.parse(
				await skopeo(
					"inspect",
					"--tls-verify=true",
					"--cert-dir",
					certs,
					"--creds",
					"alice:wonderland",
					`docker://${host}/e2e/podman:v1`,
				),
			);
			expect(inspect.Digest).toBe(pushed);
			await podman("logout", "--authfile", authFile, host);
		}, 180_000);
	});

	describe("token", () => {
		let host: string;
		const SERVICE = "stowage.e2e";
		beforeAll(async () => {
			const signer = await TokenSigner.fromFiles(pki.signingKey, pki.signingCert);
			issuer = await startTokenIssuer({
				pki,
				signer,
				issuer: "e2e-issuer",
				service: SERVICE,
				users: { alice: "secret", bob: "reader" },
				// alice may do anything under e2e/; bob may only pull; anonymous nothing.
				policy: (user, access) => {
					if (access.type !== "repository" || !access.name.startsWith("e2e/")) return [];
					if (user === "alice") return access.actions;
					if (user === "bob") return access.actions.filter((a) => a === "pull");
					return [];
				},
			});
			host = await start(
				tlsYaml(
					`auth:\n  token:\n    realm: ${issuer.url}\n    service: ${SERVICE}\n    issuer: e2e-issuer\n    rootcertbundle: ${pki.signingCert}\n`,
				),
			);
		});

		it("skopeo gets tokens from the issuer, pushes, mounts across repositories and deletes", async () => {
			await skopeo(
				"copy",
				"--dest-tls-verify=true",
				"--dest-cert-dir",
				certs,
				"--dest-creds",
				"alice:secret",
				"oci:L:latest",
				`docker://${host}/e2e/token:v1`,
			);
			expect(issuer.requests.some((r) => r.scopes.includes("repository:e2e/token:pull,push"))).toBe(
				true,
			);
			await skopeo(
				"copy",
				"--src-tls-verify=true",
				"--src-cert-dir",
				certs,
				"--src-creds",
				"alice:secret",
				"--dest-tls-verify=true",
				"--dest-cert-dir",
				certs,
				"--dest-creds",
				"alice:secret",
				`docker://${host}/e2e/token:v1`,
				`docker://${host}/e2e/copy:v1`,
			);
			const inspect = (creds: string, ref: string) =>
				skopeo("inspect", "--tls-verify=true", "--cert-dir", certs, "--creds", creds, ref);
			expect(JSON.parse(await inspect("alice:secret", `docker://${host}/e2e/copy:v1`)).Digest).toBe(
				imageDigest,
			);
			await skopeo(
				"delete",
				"--tls-verify=true",
				"--cert-dir",
				certs,
				"--creds",
				"alice:secret",
				`docker://${host}/e2e/copy@${imageDigest}`,
			);
			await expect(inspect("alice:secret", `docker://${host}/e2e/copy:v1`)).rejects.toThrow();
			// The mount asked for pull on the source along with push on the target.
			const mountScopes = ["repository:e2e/copy:pull,push", "repository:e2e/token:pull"];
			expect(issuer.requests.map((r) => r.scopes)).toContainEqual(mountScopes);
			// skopeo delete asks for `*`, which grants delete.
			expect(issuer.requests.map((r) => r.scopes)).toContainEqual(["repository:e2e/copy:*"]);
		}, 120_000);

		it("a pull-only user pulls but cannot push; outside its scope it is refused", async () => {
			const out = join(dir, "pulled-by-bob");
			await skopeo(
				"copy",
				"--src-tls-verify=true",
				"--src-cert-dir",
				certs,
				"--src-creds",
				"bob:reader",
				`docker://${host}/e2e/token:v1`,
				`oci:${out}:v1`,
			);
			const index = JSON.parse(await readFile(join(out, "index.json"), "utf8"));
			expect(index.manifests[0].digest).toBe(imageDigest);
			await expect(
				skopeo(
					"copy",
					"--dest-tls-verify=true",
					"--dest-cert-dir",
					certs,
					"--dest-creds",
					"bob:reader",
					"oci:L:latest",
					`docker://${host}/e2e/bob:v1`,
				),
			).rejects.toThrow(/unauthorized|denied|authentication required/i);
			await expect(
				skopeo(
					"inspect",
					"--tls-verify=true",
					"--cert-dir",
					certs,
					"--creds",
					"alice:secret",
					`docker://${host}/private/app:v1`,
				),
			).rejects.toThrow(/unauthorized|authentication required|denied/i);
		}, 120_000);
	});

	describe("mTLS", () => {
		let host: string;
		beforeAll(async () => {
			host = await start(tlsYaml(`    clientcas: [${pki.caCert}]\n`));
		});

		it("skopeo with a client certificate in --cert-dir; refused without", async () => {
			await skopeo(
				"copy",
				"--dest-tls-verify=true",
				"--dest-cert-dir",
				clientCerts,
				"oci:L:latest",
				`docker://${host}/e2e/mtls:v1`,
			);
			const inspect = JSON.parse(
				await skopeo(
					"inspect",
					"--tls-verify=true",
					"--cert-dir",
					clientCerts,
					`docker://${host}/e2e/mtls:v1`,
				),
			);
			expect(inspect.Digest).toBe(imageDigest);
			await expect(
				skopeo("inspect", "--tls-verify=true", "--cert-dir", certs, `docker://${host}/e2e/mtls:v1`),
			).rejects.toThrow();
		}, 120_000);
	});
});
