import { generateKeyPairSync, randomBytes } from "node:crypto";
import type { Readable } from "node:stream";
import { Storage } from "@google-cloud/storage";
import type { StorageDriver } from "@stowage/core";
import {
	type GcsTestServer,
	type GcsTestServerOptions,
	startGcsTestServer,
} from "@stowage/test-server-gcs";
import { afterAll, beforeAll } from "vitest";
import { createGcsDriver, type GcsDriverOptions } from "../src/index.js";
import { FAST_RETRY, optionsOf, target } from "./target.js";

export const KiB = 1024;
export const MiB = 1024 * KiB;

export function random(n: number): Buffer {
	return randomBytes(n);
}

export async function readAll(stream: Readable): Promise<Buffer> {
	const parts: Buffer[] = [];
	for await (const c of stream) parts.push(c as Buffer);
	return Buffer.concat(parts);
}

export function sleep(ms: number): Promise<void> {
	return new Promise((r) => setTimeout(r, ms));
}

/** The SDK on the target, to look at objects the driver hides. */
export function rawStorage(): Storage {
	const t = target();
	return new Storage({
		projectId: t.projectId,
		retryOptions: { autoRetry: false },
		...(t.apiEndpoint !== undefined && { apiEndpoint: t.apiEndpoint }),
		...(t.credentials !== undefined && { credentials: t.credentials }),
		...(t.keyfile !== undefined && { keyFilename: t.keyfile }),
	});
}

/** Every object name under a driver's root directory, hidden ones included. */
export async function rawNames(driver: StorageDriver, storage = rawStorage()): Promise<string[]> {
	const o = optionsOf(driver);
	const prefix = `${(o.rootdirectory ?? "").replace(/^\/+|\/+$/g, "")}/`;
	const [files] = await storage.bucket(o.bucket).getFiles({ prefix });
	return files.map((f) => f.name.slice(prefix.length));
}

export interface OwnServer {
	server: GcsTestServer;
	credentials: { client_email: string; private_key: string };
	driver(extra?: Partial<GcsDriverOptions>): StorageDriver;
}

const BUCKET = "own-bucket";
const SIGNER = "driver-tests@stowage.iam.gserviceaccount.com";

/**
 * A test server of this file's own, for what only a test server can do: inject faults, expire
 * sessions, count requests. Drivers made by `driver()` get a fresh root directory each.
 */
export function ownServer(options: GcsTestServerOptions = {}): OwnServer {
	const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
	const own = {
		credentials: {
			client_email: SIGNER,
			private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
		},
	} as OwnServer;
	beforeAll(async () => {
		own.server = await startGcsTestServer({
			buckets: [BUCKET],
			serviceAccounts: [{ client_email: SIGNER, key: publicKey }],
			...options,
		});
	});
	afterAll(async () => {
		const unknown = [...own.server.unknownRoutes];
		await own.server.close();
		if (unknown.length > 0)
			throw new Error(`unknown routes were requested:\n${unknown.join("\n")}`);
	});
	own.driver = (extra = {}) =>
		createGcsDriver({
			bucket: BUCKET,
			apiEndpoint: own.server.url,
			projectId: "own",
			rootdirectory: `/own/${randomBytes(6).toString("hex")}`,
			credentials: own.credentials,
			retry: FAST_RETRY,
			...extra,
		});
	return own;
}

/** Collect unhandled rejections and uncaught exceptions during a file's tests. */
export function watchUnhandled(): { errors: unknown[] } {
	const seen = { errors: [] as unknown[] };
	const onError = (err: unknown) => seen.errors.push(err);
	beforeAll(() => {
		process.on("unhandledRejection", onError);
		process.on("uncaughtExceptionMonitor", onError);
	});
	afterAll(async () => {
		await sleep(50);
		process.off("unhandledRejection", onError);
		process.off("uncaughtExceptionMonitor", onError);
		if (seen.errors.length > 0) {
			throw new Error(`unhandled errors: ${seen.errors.map(String).join("; ")}`);
		}
	});
	return seen;
}

/** Objects (hidden ones included) left under the given root directories. */
export async function leftovers(roots: readonly string[]): Promise<string[]> {
	const storage = rawStorage();
	const bucket = storage.bucket(target().bucket);
	const out: string[] = [];
	for (const root of roots) {
		const [files] = await bucket.getFiles({ prefix: `${root.replace(/^\/+|\/+$/g, "")}/` });
		out.push(...files.map((f) => f.name));
	}
	return out;
}
