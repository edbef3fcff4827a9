import { OperationAbortedError, type StorageDriver } from "@stowage/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFsDriver, FsDriver } from "../src/index.js";
import { bytes, hostTree, openFdCount, scratch, withoutUnhandledRejections } from "./helpers.js";

let root: string;
let cleanup: () => Promise<void>;
let driver: StorageDriver;

beforeEach(async () => {
	({ dir: root, cleanup } = await scratch());
	driver = createFsDriver({ rootDirectory: root });
});

afterEach(async () => {
	await cleanup();
});

const SIZE = 8 * 1024 * 1024;

/** fd counts settle once pending closes have run. */
async function settledFdCount(): Promise<number> {
	await new Promise((resolve) => setTimeout(resolve, 20));
	return openFdCount();
}

describe("abort", () => {
	it("aborting mid-stream destroys the reader and closes its file", async () => {
		await driver.putContent("/big", Buffer.alloc(SIZE, 1));
		const before = await settledFdCount();
		const unhandled = await withoutUnhandledRejections(async () => {
			const controller = new AbortController();
			const stream = await driver.reader("/big", 0, { signal: controller.signal });
			expect(await openFdCount()).toBe(before + 1);
			let received = 0;
			const consume = (async () => {
				for await (const chunk of stream) {
					received += (chunk as Buffer).length;
					if (received >= 64 * 1024) controller.abort();
				}
			})();
			await expect(consume).rejects.toBeInstanceOf(OperationAbortedError);
			expect(stream.destroyed).toBe(true);
			expect(received).toBeLessThan(SIZE);
		});
		expect(unhandled).toEqual([]);
		expect(await settledFdCount()).toBe(before);
	});

	it("aborting a reader nobody consumes yet closes its file without an unhandled error", async () => {
		await driver.putContent("/big", Buffer.alloc(SIZE, 1));
		const before = await settledFdCount();
		const unhandled = await withoutUnhandledRejections(async () => {
			const controller = new AbortController();
			const stream = await driver.reader("/big", 100, { signal: controller.signal });
			const failed = new Promise((resolve) => stream.once("error", resolve));
			controller.abort();
			expect(await failed).toBeInstanceOf(OperationAbortedError);
		});
		expect(unhandled).toEqual([]);
		expect(await settledFdCount()).toBe(before);
	});

	it("a pre-aborted call rejects with OperationAbortedError and opens nothing", async () => {
		await driver.putContent("/f", bytes("x"));
		const before = await settledFdCount();
		const signal = AbortSignal.abort();
		const inner = new FsDriver({ rootDirectory: root });
		const unhandled = await withoutUnhandledRejections(async () => {
			for (const d of [driver, inner as StorageDriver]) {
				await expect(d.getContent("/f", { signal })).rejects.toBeInstanceOf(OperationAbortedError);
				await expect(d.reader("/f", 0, { signal })).rejects.toBeInstanceOf(OperationAbortedError);
				await expect(d.writer("/w", { signal })).rejects.toBeInstanceOf(OperationAbortedError);
				await expect(d.putContent("/f", bytes("y"), { signal })).rejects.toBeInstanceOf(
					OperationAbortedError,
				);
			}
		});
		expect(unhandled).toEqual([]);
		expect(await settledFdCount()).toBe(before);
		expect((await driver.getContent("/f")).toString()).toBe("x");
		expect(await hostTree(root)).toEqual(["f"]);
		await driver.delete("/f");
		expect(await hostTree(root)).toEqual([]);
	});

	it("a getContent aborted while reading rejects with OperationAbortedError", async () => {
		await driver.putContent("/big", Buffer.alloc(64 * 1024 * 1024, 1));
		const unhandled = await withoutUnhandledRejections(async () => {
			const controller = new AbortController();
			const pending = driver.getContent("/big", { signal: controller.signal });
			setImmediate(() => controller.abort());
			const result = await pending.then(
				(content) => content,
				(err: unknown) => err,
			);
			// A read that wins the race is fine too; it must not half-succeed or hang.
			if (!Buffer.isBuffer(result)) expect(result).toBeInstanceOf(OperationAbortedError);
			else expect(result.length).toBe(64 * 1024 * 1024);
		});
		expect(unhandled).toEqual([]);
	});

	it("a writer aborted while opening leaves nothing behind", async () => {
		const controller = new AbortController();
		const inner = new FsDriver({ rootDirectory: root });
		// Abort once the open is under way, so the driver sees it after creating the partial.
		const opening = inner.writer("/fresh/dir/data", { signal: controller.signal });
		controller.abort();
		await expect(opening).rejects.toBeInstanceOf(OperationAbortedError);
		expect(await hostTree(root)).toEqual([]);
	});

	it("a writer refuses writes after its signal aborts but can still close for a resume", async () => {
		const controller = new AbortController();
		const w = await driver.writer("/u", { signal: controller.signal });
		await w.write(bytes("abc"));
		controller.abort();
		await expect(w.write(bytes("def"))).rejects.toBeInstanceOf(OperationAbortedError);
		await w.close();
		const resumed = await driver.writer("/u", { append: true });
		expect(resumed.size).toBe(3);
		await resumed.cancel();
		expect(await hostTree(root)).toEqual([]);
	});
});
