import { createHash, randomBytes } from "node:crypto";
import type { Readable } from "node:stream";
import { Registry, type RegistryOptions, type StorageDriver } from "@stowage/core";
import type { ExpectStatic } from "vitest";

export type EngineTestFunction = (
	name: string,
	fn: (ctx: { expect: ExpectStatic }) => Promise<void> | void,
	timeout?: number,
) => void;

export type EngineDriverFactory = () => StorageDriver | Promise<StorageDriver>;

export interface UploadEngineSuiteOptions {
	/**
	 * A second driver instance over the same backend as `driver` (another process's view). The
	 * default reuses the same object, which still proves the engine keeps no state in memory.
	 */
	reopen?: (driver: StorageDriver) => StorageDriver | Promise<StorageDriver>;
	/** Chunk size of the large-chunk resume case. Default 10 MiB. */
	largeChunkSize?: number;
	/** Per-test timeout in ms. Default 60 s. */
	timeout?: number;
}

export function sha256(data: Uint8Array): string {
	return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

export function sha512(data: Uint8Array): string {
	return `sha512:${createHash("sha512").update(data).digest("hex")}`;
}

export function randomData(size: number): Buffer {
	return randomBytes(size);
}

/** A body of the given chunks, as an HTTP request body would arrive. */
export async function* body(...chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
	for (const chunk of chunks) yield chunk;
}

/** A body that delivers `data` and then fails, as a client that disconnects mid-request. */
export async function* brokenBody(data: Uint8Array): AsyncGenerator<Uint8Array> {
	yield data;
	throw Object.assign(new Error("client went away"), { code: "ECONNRESET" });
}

export async function readAll(stream: Readable): Promise<Buffer> {
	const parts: Buffer[] = [];
	for await (const chunk of stream) parts.push(chunk as Buffer);
	return Buffer.concat(parts);
}

/**
 * Counts reads of upload data on top of a real driver: the fault-and-observation layer the tests
 * use to prove commit does not re-read bytes.
 */
export function countingReads(driver: StorageDriver): {
	driver: StorageDriver;
	reads: { path: string; offset: number }[];
} {
	const reads: { path: string; offset: number }[] = [];
	const proxy = new Proxy(driver, {
		get(target, prop, receiver) {
			if (prop === "reader") {
				return (path: string, offset?: number, options?: unknown) => {
					reads.push({ path, offset: offset ?? 0 });
					return target.reader(path, offset, options as never);
				};
			}
			const value = Reflect.get(target, prop, receiver);
			return typeof value === "function" ? value.bind(target) : value;
		},
	});
	return { driver: proxy, reads };
}

export interface EngineFixture {
	driver: StorageDriver;
	registry: Registry;
	/** A second engine over the same backend, as another process would have. */
	other: () => Promise<Registry>;
	cleanup: () => Promise<void>;
}

export async function fixture(
	factory: EngineDriverFactory,
	options: UploadEngineSuiteOptions,
	extra: Omit<RegistryOptions, "driver"> = {},
): Promise<EngineFixture> {
	const driver = await factory();
	return {
		driver,
		registry: new Registry({ driver, ...extra }),
		other: async () =>
			new Registry({ driver: options.reopen ? await options.reopen(driver) : driver, ...extra }),
		cleanup: async () => {
			for (const path of await driver.list("/")) await driver.delete(path);
		},
	};
}

export function uniqueName(prefix = "suite"): string {
	return `${prefix}/${randomBytes(5).toString("hex")}`;
}
