/**
 * Cloud storage backends on loopback for end-to-end tests of the CLI, each described by the
 * `storage.<driver>` section of a Distribution config.yml (Distribution's key names), and the
 * built CLI started on such a config as a child process.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startGcsTestServer } from "@stowage/test-server-gcs";
import { startS3TestServer } from "@stowage/test-server-s3";
import { stringify } from "yaml";
import { AZURITE_ACCOUNT, AZURITE_KEY, startAzurite as startAzuriteProcess } from "./azurite.js";
import { CLI, freePort, requireBuiltCli } from "./replicas.js";

export type CloudDriver = "azure" | "gcs" | "s3";

export interface CloudBackend {
	readonly driver: CloudDriver;
	/** The `storage.<driver>` section, as a user would write it. */
	readonly params: Record<string, unknown>;
	/** Origin of the backend: redirect URLs must point here. */
	readonly origin: string;
	stop(): Promise<void>;
}

const APP = resolve(import.meta.dirname, "../..");

/** Azurite (see azurite.ts) under a fresh container, with the account's shared key. */
export async function startAzurite(): Promise<CloudBackend> {
	const azurite = await startAzuriteProcess();
	return {
		driver: "azure",
		params: {
			accountname: AZURITE_ACCOUNT,
			accountkey: AZURITE_KEY,
			container: `stowage-e2e-${randomBytes(3).toString("hex")}`,
			serviceurl: azurite.serviceUrl,
			rootdirectory: "/registry",
			// Stowage's key (not Distribution's): 1 MiB blocks make a push of a few MiB stage
			// several blocks and commit them in a later request.
			blocksize: 1048576,
		},
		origin: new URL(azurite.serviceUrl).origin,
		stop: () => azurite.stop(),
	};
}

/**
 * The strict GCS test server, with a throwaway service account whose key file the registry
 * reads. The SDK sends no credentials to a custom endpoint: the key is there to sign the V4 URLs
 * of redirects, which the server verifies against the public half.
 */
export async function startGcs(dir: string): Promise<CloudBackend> {
	const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
	const clientEmail = "stowage-e2e@stowage-e2e.iam.gserviceaccount.com";
	const bucket = "stowage-e2e";
	const server = await startGcsTestServer({
		buckets: [bucket],
		serviceAccounts: [{ client_email: clientEmail, key: publicKey }],
		dir: await mkdtemp(join(dir, "gcs-")),
	});
	const keyfile = join(dir, "gcs-key.json");
	await writeFile(
		keyfile,
		JSON.stringify({
			type: "service_account",
			project_id: "stowage-e2e",
			client_email: clientEmail,
			private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
		}),
	);
	return {
		driver: "gcs",
		params: {
			bucket,
			keyfile,
			rootdirectory: "/registry",
			chunksize: 1048576,
			apiendpoint: server.url,
		},
		origin: server.url,
		stop: async () => {
			const unknown = [...server.unknownRoutes];
			await server.close();
			if (unknown.length > 0) throw new Error(`GCS test server: unknown routes ${unknown}`);
		},
	};
}

/** The strict S3 test server (SigV4 checked, AWS's part-size rules), in this process. */
export async function startStrictS3(): Promise<CloudBackend> {
	const accesskey = "stowage-e2e";
	const secretkey = "stowage-e2e-secret";
	const bucket = "stowage-e2e";
	const server = await startS3TestServer({
		accessKeyId: accesskey,
		secretAccessKey: secretkey,
		buckets: [bucket],
	});
	return {
		driver: "s3",
		// 5 MiB parts (S3's minimum): a layer of a few MiB is a multipart upload.
		params: {
			...s3Params(server.url, server.region, bucket, accesskey, secretkey),
			chunksize: 5242880,
		},
		origin: server.url,
		stop: () => server.close(),
	};
}

/**
 * s3rver, third-party code speaking S3, as a child process. It is a devDependency of
 * @stowage/driver-s3 (whose own tests start it the same way), resolved from there. It needs the
 * legacy OpenSSL provider and accepts the SDK's signatures only with
 * --allow-mismatched-signatures. It has no ListParts, which the driver needs to continue a
 * multipart upload that already holds a part in a later request (the PUT that ends a push): the
 * default 10 MiB chunk size is kept, so the test image's layers each fit in one part.
 */
export async function startS3rver(dir: string): Promise<CloudBackend> {
	const fromDriver = createRequire(join(APP, "..", "..", "packages", "driver-s3", "package.json"));
	const cli = join(fromDriver.resolve("@20minutes/s3rver/package.json"), "..", "lib", "cli.js");
	const bucket = "stowage-e2e";
	const data = await mkdtemp(join(dir, "s3rver-"));
	const script = `require(${JSON.stringify(cli)}).parseAsync(process.argv).catch((e) => { console.error(e); process.exit(1); });`;
	const args = ["-e", script, "s3rver", "-d", data, "-a", "127.0.0.1", "-p", "0"];
	args.push("--silent", "--allow-mismatched-signatures", "--configure-bucket", bucket);
	const child = spawn(process.execPath, args, {
		env: { PATH: process.env.PATH ?? "", NODE_OPTIONS: "--openssl-legacy-provider" },
		stdio: ["ignore", "pipe", "pipe"],
	});
	let origin = "";
	await waitFor(child, "s3rver", async (output) => {
		const m = /listening on ([\d.]+):(\d+)/.exec(output);
		if (m) origin = `http://${m[1]}:${m[2]}`;
		return origin !== "";
	});
	return {
		driver: "s3",
		// 5 MiB parts: the 6 MiB layer becomes a multipart upload, which on s3rver (no ListParts)
		// resumes through the driver's part markers.
		params: { ...s3Params(origin, "us-east-1", bucket, "S3RVER", "S3RVER"), chunksize: 5242880 },
		origin,
		stop: () => stopChild(child),
	};
}

function s3Params(
	regionendpoint: string,
	region: string,
	bucket: string,
	accesskey: string,
	secretkey: string,
): Record<string, unknown> {
	return {
		region,
		bucket,
		regionendpoint,
		forcepathstyle: true,
		accesskey,
		secretkey,
		rootdirectory: "/registry",
	};
}

export interface RegistryProcess {
	readonly url: string;
	readonly configPath: string;
	readonly configText: string;
	pid(): number;
	output(): string;
	stop(): Promise<void>;
}

/** `node dist/cli.js serve config.yml` with `storage: {<driver>: params}`, once it answers. */
export async function startRegistry(dir: string, backend: CloudBackend): Promise<RegistryProcess> {
	requireBuiltCli();
	await mkdir(dir, { recursive: true });
	const port = await freePort();
	const configText = stringify({
		version: 0.1,
		log: { level: "warn", accesslog: { disabled: true } },
		http: { addr: `127.0.0.1:${port}`, draintimeout: "2s" },
		storage: { [backend.driver]: backend.params },
	});
	const configPath = join(dir, `config-${backend.driver}-${port}.yml`);
	await writeFile(configPath, configText);
	const child = spawn(process.execPath, [CLI, "serve", configPath], {
		cwd: dir,
		// Nothing from this environment (cloud credentials, REGISTRY_*) leaks into the server.
		env: {
			PATH: process.env.PATH ?? "",
			HOME: dir,
			AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
		},
		stdio: ["ignore", "pipe", "pipe"],
	});
	const url = `http://127.0.0.1:${port}`;
	const output = await waitFor(child, "stowage serve", async () => {
		const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(2000) });
		await res.arrayBuffer();
		return res.status === 200;
	});
	return {
		url,
		configPath,
		configText,
		pid: () => child.pid ?? -1,
		output,
		stop: () => stopChild(child),
	};
}

/**
 * Poll `ready` (which gets the output so far) until it is true; fails with the process's output
 * when the process exits first or after 30 s. Returns a getter of the output collected.
 */
async function waitFor(
	child: ChildProcess,
	what: string,
	ready: (output: string) => Promise<boolean>,
): Promise<() => string> {
	let out = "";
	// A process that cannot be spawned reports it here (and exits); without a listener it would
	// crash the test process.
	child.on("error", (err) => {
		out += `${err.message}\n`;
	});
	child.stdout?.on("data", (d: Buffer) => {
		out += d;
	});
	child.stderr?.on("data", (d: Buffer) => {
		out += d;
	});
	const deadline = Date.now() + 30_000;
	for (;;) {
		if (child.exitCode !== null || child.signalCode !== null) {
			throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}) at start:\n${out}`);
		}
		if (await ready(out).catch(() => false)) return () => out;
		if (Date.now() > deadline) {
			await stopChild(child);
			throw new Error(`${what} did not become ready within 30 s:\n${out}`);
		}
		await sleep(50);
	}
}

/** SIGTERM, SIGKILL after 10 s, and wait for the exit: nothing outlives the test. */
async function stopChild(child: ChildProcess): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) return;
	const exited = new Promise((done) => child.once("exit", done));
	child.kill("SIGTERM");
	const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
	await exited;
	clearTimeout(timer);
}
