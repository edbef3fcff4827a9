import { createHash, generateKeyPairSync, type KeyObject } from "node:crypto";
import { Storage } from "@google-cloud/storage";
import { afterAll, beforeAll } from "vitest";
import { crc32cBase64, crc32cUpdate } from "../src/crc32c.js";
import { type GcsTestServer, type GcsTestServerOptions, startGcsTestServer } from "../src/index.js";

export const BUCKET = "test-bucket";
export const SIGNER = "signer@test-project.iam.gserviceaccount.com";
export const KiB = 1024;
export const MiB = 1024 * KiB;

export interface Fixture {
	server: GcsTestServer;
	storage: Storage;
	privateKey: KeyObject;
}

/**
 * A server for the file, and the official SDK pointed at it (no auth with a custom endpoint; no
 * SDK retries, so every fault the server injects is seen). Each file ends by checking that no
 * request fell through to the 501 route.
 */
export function useServer(options: GcsTestServerOptions = {}): Fixture {
	const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
	const f = { privateKey } as Fixture;
	beforeAll(async () => {
		f.server = await startGcsTestServer({
			buckets: [BUCKET],
			serviceAccounts: [{ client_email: SIGNER, key: publicKey }],
			...options,
		});
		f.storage = sdk(f.server.url, privateKey);
	});
	afterAll(async () => {
		const unknown = [...f.server.unknownRoutes];
		await f.server.close();
		if (unknown.length > 0)
			throw new Error(`unknown routes were requested:\n${unknown.join("\n")}`);
	});
	return f;
}

export function sdk(url: string, privateKey?: KeyObject): Storage {
	return new Storage({
		apiEndpoint: url,
		projectId: "test-project",
		retryOptions: { autoRetry: false },
		...(privateKey && {
			credentials: {
				client_email: SIGNER,
				private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
			},
		}),
	});
}

export function md5(data: Uint8Array): string {
	return createHash("md5").update(data).digest("base64");
}

export function crc32c(data: Uint8Array): string {
	return crc32cBase64(crc32cUpdate(0, data));
}

export function bytes(n: number, seed = 1): Buffer {
	const b = Buffer.alloc(n);
	let x = seed * 2654435761;
	for (let i = 0; i < n; i++) {
		x = (x * 1103515245 + 12345) >>> 0;
		b[i] = x >>> 24;
	}
	return b;
}

let counter = 0;
export function uniqueName(prefix = "obj"): string {
	return `${prefix}-${Date.now().toString(36)}-${counter++}`;
}

/** The HTTP status carried by an SDK error. */
export function statusOf(err: unknown): unknown {
	const e = err as { code?: unknown; status?: unknown; response?: { status?: unknown } };
	if (typeof e.code === "number") return e.code;
	return e.status ?? e.response?.status ?? e.code;
}

export async function rejection(p: Promise<unknown>): Promise<unknown> {
	try {
		await p;
	} catch (err) {
		return err;
	}
	throw new Error("expected a rejection");
}
