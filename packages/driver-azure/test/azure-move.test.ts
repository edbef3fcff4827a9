import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { PathNotFoundError, type StorageDriver } from "@stowage/core";
import { describe, expect, inject, it } from "vitest";
import { createAzureDriver } from "../src/index.js";
import { countingContainer } from "./clients.js";
import { driverAt, uniqueRoot } from "./target.js";

const MiB = 1024 * 1024;
const target = inject("azure");

/** Deterministic bytes, streamed a MiB at a time so the test holds no large buffer. */
async function writeSeeded(driver: StorageDriver, path: string, size: number): Promise<string> {
	const hash = createHash("sha256");
	const writer = await driver.writer(path);
	const block = Buffer.alloc(MiB);
	for (let offset = 0; offset < size; offset += MiB) {
		const n = Math.min(MiB, size - offset);
		block.fill(offset / MiB);
		const piece = block.subarray(0, n);
		hash.update(piece);
		await writer.write(piece);
	}
	await writer.commit();
	return hash.digest("hex");
}

async function sha256(stream: Readable): Promise<{ hex: string; size: number }> {
	const hash = createHash("sha256");
	let size = 0;
	for await (const chunk of stream) {
		hash.update(chunk as Buffer);
		size += (chunk as Buffer).length;
	}
	return { hex: hash.digest("hex"), size };
}

describe("move by server-side copy", () => {
	it("a blob above the synchronous copy limit (256 MiB) moves by the polled asynchronous copy", async () => {
		const rootDir = uniqueRoot("move-large");
		const { container, log } = countingContainer(target);
		const driver = createAzureDriver({ containerClient: container, rootdirectory: rootDir });
		const size = 260 * MiB;
		const digest = await writeSeeded(driver, "/uploads/data", size);
		log.reset();
		await driver.move("/uploads/data", "/blobs/data");
		// No byte went through this process: the copy is the service's.
		expect(log.uploaded()).toBeLessThan(64 * 1024);
		const copies = log.requests.filter((r) => r.method === "PUT" && r.url.includes("/blobs/data"));
		expect(copies.map((r) => r.syncCopy)).toEqual([false]);
		const back = await sha256(await driver.reader("/blobs/data"));
		expect(back).toEqual({ hex: digest, size });
		await expect(driver.stat("/uploads/data")).rejects.toBeInstanceOf(PathNotFoundError);
		await driver.delete("/blobs");
	}, 300_000);

	it("synccopymaxsize lowers the threshold; both paths give the same result", async () => {
		const rootDir = uniqueRoot("move-threshold");
		const { container, log } = countingContainer(target);
		const sync = createAzureDriver({ containerClient: container, rootdirectory: rootDir });
		const async = createAzureDriver({
			containerClient: container,
			rootdirectory: rootDir,
			synccopymaxsize: MiB,
		});
		const digest = await writeSeeded(sync, "/a", 24 * MiB);
		log.reset();
		await async.move("/a", "/b");
		await sync.move("/b", "/c");
		const copies = log.requests.filter((r) => r.method === "PUT" && /\/[bc](\?|$)/.test(r.url));
		expect(copies.map((r) => r.syncCopy)).toEqual([false, true]);
		expect(await sha256(await sync.reader("/c"))).toEqual({ hex: digest, size: 24 * MiB });
		expect(await sync.list("/")).toEqual(["/c"]);
		await sync.delete("/c");
	});

	it("move of a missing source names the source", async () => {
		const driver = driverAt(target, uniqueRoot("move-missing"));
		const err = await driver.move("/nope", "/dest").catch((e: unknown) => e);
		expect(err).toBeInstanceOf(PathNotFoundError);
		expect((err as PathNotFoundError).path).toBe("/nope");
	});
});
