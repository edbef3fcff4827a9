import type { Readable } from "node:stream";
import type { FileWriter, StorageDriver } from "@stowage/core";
import { type S3TestServer, type ServerLimits, startS3TestServer } from "@stowage/test-server-s3";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { createS3Driver, type S3DriverOptions } from "../src/index.js";

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const BUCKET = "driver-tests";
const ACCESS_KEY = "driver-test-key";
const SECRET_KEY = "driver-test-secret";

export interface Strict {
	server: S3TestServer;
	/** Driver options (Distribution's keys) for this server, under a root of the test's own. */
	options(extra?: Partial<S3DriverOptions>): S3DriverOptions;
	/** A new driver instance with its own SDK client: another process's view of the bucket. */
	driver(extra?: Partial<S3DriverOptions>): StorageDriver;
}

let roots = 0;

/**
 * A strict test server for this file (in this process, so tests can read its counters and
 * inject faults), and a fresh root per test.
 */
export function useStrictServer(limits: Partial<ServerLimits> = {}): Strict {
	const ctx = { root: "" } as Strict & { root: string };
	beforeAll(async () => {
		ctx.server = await startS3TestServer({
			accessKeyId: ACCESS_KEY,
			secretAccessKey: SECRET_KEY,
			buckets: [BUCKET],
			limits,
		});
	});
	afterAll(async () => {
		await ctx.server?.close();
	});
	afterEach(() => {
		ctx.server.faults.clear();
		ctx.root = "";
	});
	ctx.options = (extra = {}) => {
		if (ctx.root === "") ctx.root = `t${Date.now().toString(36)}-${++roots}`;
		return {
			bucket: BUCKET,
			region: "us-east-1",
			regionendpoint: ctx.server.url,
			forcepathstyle: "true",
			accesskey: ACCESS_KEY,
			secretkey: SECRET_KEY,
			rootdirectory: ctx.root,
			...extra,
		};
	};
	ctx.driver = (extra = {}) => createS3Driver(ctx.options(extra));
	return ctx;
}

export async function readAll(stream: Readable): Promise<Buffer> {
	const chunks: Buffer[] = [];
	for await (const chunk of stream) chunks.push(chunk as Buffer);
	return Buffer.concat(chunks);
}

export function pattern(size: number, seed = 1): Buffer {
	const b = Buffer.allocUnsafe(size);
	for (let i = 0; i < size; i++) b[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
	return b;
}

/** One writer session: open (append or not), write the chunk, then close or commit. */
export async function session(
	driver: StorageDriver,
	path: string,
	chunk: Uint8Array,
	opts: { append: boolean; end: "close" | "commit" },
): Promise<FileWriter> {
	const w = await driver.writer(path, { append: opts.append });
	await w.write(chunk);
	await w[opts.end]();
	return w;
}

/** Every multipart upload and object the server still holds under a root. */
export function leftovers(
	server: S3TestServer,
	root: string,
): { objects: string[]; uploads: string[] } {
	const bucket = server.store.buckets.get(BUCKET);
	const objects: string[] = [];
	for (const o of bucket?.keysAfter(undefined) ?? [])
		if (o.key.startsWith(`${root}/`)) objects.push(o.key);
	const uploads = [...(bucket?.uploads.values() ?? [])]
		.filter((u) => u.key.startsWith(`${root}/`))
		.map((u) => u.key);
	return { objects, uploads };
}

/** Fail the test on any unhandled rejection or uncaught exception while it ran. */
export function guardUnhandled(): void {
	const seen: unknown[] = [];
	const onRejection = (reason: unknown) => seen.push(reason);
	beforeAll(() => {
		process.on("unhandledRejection", onRejection);
		process.on("uncaughtExceptionMonitor", onRejection);
	});
	afterEach(async () => {
		await new Promise((r) => setTimeout(r, 20));
		const found = seen.splice(0);
		expect(found, "unhandled rejections or uncaught exceptions").toEqual([]);
	});
	afterAll(() => {
		process.off("unhandledRejection", onRejection);
		process.off("uncaughtExceptionMonitor", onRejection);
	});
}
