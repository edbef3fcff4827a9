import { stat as hostStat, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PathNotFoundError, type StorageDriver } from "@stowage/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createFsDriver, FsDriver } from "../src/index.js";
import { bytes, hostTree, scratch } from "./helpers.js";

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

describe("putContent atomicity", () => {
	it("leaves no temporary file behind", async () => {
		for (let i = 0; i < 5; i++) await driver.putContent("/a/f", Buffer.alloc(1000 * i, i));
		expect(await hostTree(root)).toEqual(["a/", "a/f"]);
		expect((await driver.getContent("/a/f")).length).toBe(4000);
	});

	it("an aborted putContent keeps the old content and removes its temporary file", async () => {
		await driver.putContent("/a/f", bytes("old"));
		// Bypass the wrapper's abort-before-dispatch to reach the driver's own abort handling.
		const inner = new FsDriver({ rootDirectory: root });
		await expect(
			inner.putContent("/a/f", Buffer.alloc(4 * 1024 * 1024, 1), { signal: AbortSignal.abort() }),
		).rejects.toMatchObject({ code: "ABORTED" });
		expect((await driver.getContent("/a/f")).toString()).toBe("old");
		expect(await hostTree(root)).toEqual(["a/", "a/f"]);
	});

	it("a failed putContent into a fresh directory leaves no directory behind", async () => {
		const inner = new FsDriver({ rootDirectory: root });
		await expect(
			inner.putContent("/fresh/deep/f", bytes("x"), { signal: AbortSignal.abort() }),
		).rejects.toMatchObject({ code: "ABORTED" });
		expect(await hostTree(root)).toEqual([]);
	});

	it("a leftover temporary file from a crash is invisible and the final path is intact", async () => {
		await driver.putContent("/a/f", bytes("complete"));
		// What a crash between create and rename leaves: a half-written temp file.
		await writeFile(join(root, "a", "f~tmp~0123456789abcdef"), "half-writ");
		expect((await driver.getContent("/a/f")).toString()).toBe("complete");
		expect(await driver.list("/a")).toEqual(["/a/f"]);
		expect((await driver.stat("/a/f")).size).toBe(8);
		await driver.putContent("/a/f", bytes("newer"));
		expect((await driver.getContent("/a/f")).toString()).toBe("newer");
		// Deleting the directory takes hidden leftovers with it.
		await driver.delete("/a");
		expect(await hostTree(root)).toEqual([]);
	});
});

describe("writer atomicity", () => {
	it("writes to a hidden partial file; the final path appears only at commit", async () => {
		const w = await driver.writer("/up/data");
		await w.write(Buffer.alloc(100, 1));
		await w.close();
		expect(await hostTree(root)).toEqual(["up/", "up/data~partial"]);
		expect(await driver.list("/up")).toEqual([]);
		await expect(driver.stat("/up/data")).rejects.toBeInstanceOf(PathNotFoundError);
		await expect(driver.reader("/up/data")).rejects.toBeInstanceOf(PathNotFoundError);
		await expect(driver.getContent("/up/data")).rejects.toBeInstanceOf(PathNotFoundError);

		const again = await driver.writer("/up/data", { append: true });
		await again.write(Buffer.alloc(50, 2));
		await again.commit();
		expect(await hostTree(root)).toEqual(["up/", "up/data"]);
		const content = await driver.getContent("/up/data");
		expect(content.length).toBe(150);
		expect(content[99]).toBe(1);
		expect(content[100]).toBe(2);
	});

	it("while a rewrite is in progress the final path keeps the old complete content", async () => {
		await driver.putContent("/f", bytes("old content"));
		const w = await driver.writer("/f");
		await w.write(bytes("new"));
		await w.close();
		// A crash now: the writer was closed but never committed.
		const afterCrash = createFsDriver({ rootDirectory: root });
		expect((await afterCrash.getContent("/f")).toString()).toBe("old content");
		const resumed = await afterCrash.writer("/f", { append: true });
		expect(resumed.size).toBe(3);
		await resumed.write(bytes(" content!"));
		await resumed.commit();
		expect((await driver.getContent("/f")).toString()).toBe("new content!");
		expect(await hostTree(root)).toEqual(["f"]);
	});

	it("streams to disk instead of buffering the whole file", async () => {
		const small = createFsDriver({ rootDirectory: root, writeBufferSize: 64 });
		const w = await small.writer("/s");
		const partial = join(root, "s~partial");
		for (let i = 0; i < 10; i++) await w.write(Buffer.alloc(10, i));
		// 100 bytes written through a 64-byte buffer: one flush is under way (double buffering does
		// not wait for it) and reaches the file with no close or commit.
		await vi.waitFor(async () => expect((await hostStat(partial)).size).toBeGreaterThanOrEqual(64));
		expect(w.size).toBe(100);
		await w.write(Buffer.alloc(1000, 9)); // larger than the buffer: written straight through
		expect((await hostStat(partial)).size).toBe(1100);
		await w.commit();
		const content = await small.getContent("/s");
		expect(content.length).toBe(1100);
		expect([...content.subarray(0, 100)]).toEqual(
			Array.from({ length: 100 }, (_, i) => Math.floor(i / 10)),
		);
	});

	it("keeps order for writes that are not awaited one by one", async () => {
		const w = await driver.writer("/o");
		await Promise.all(Array.from({ length: 50 }, (_, i) => w.write(Buffer.from([i]))));
		await w.commit();
		expect([...(await driver.getContent("/o"))]).toEqual(Array.from({ length: 50 }, (_, i) => i));
	});

	it("does not reuse the caller's buffer after write resolves", async () => {
		const w = await driver.writer("/reuse");
		const chunk = Buffer.alloc(8, 1);
		await w.write(chunk);
		chunk.fill(2);
		await w.write(chunk);
		await w.commit();
		expect([...(await driver.getContent("/reuse"))]).toEqual([
			1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2,
		]);
	});

	it("appending to committed content copies it: readable until commit, then replaced", async () => {
		await driver.putContent("/c", bytes("base"));
		const w = await driver.writer("/c", { append: true });
		expect(w.size).toBe(4);
		await w.write(bytes("+more"));
		await w.close();
		expect((await driver.getContent("/c")).toString()).toBe("base");
		const w2 = await driver.writer("/c", { append: true });
		expect(w2.size).toBe(9);
		await w2.commit();
		expect((await driver.getContent("/c")).toString()).toBe("base+more");
		expect(await hostTree(root)).toEqual(["c"]);
	});

	it("appends to a committed empty file", async () => {
		await driver.putContent("/e", new Uint8Array(0));
		const w = await driver.writer("/e", { append: true });
		expect(w.size).toBe(0);
		await w.write(Buffer.alloc(32, 3));
		await w.commit();
		expect((await driver.getContent("/e")).length).toBe(32);
	});

	it("appends from nothing when the path is missing", async () => {
		const w = await driver.writer("/new/file", { append: true });
		expect(w.size).toBe(0);
		await w.write(bytes("z"));
		await w.commit();
		expect((await driver.getContent("/new/file")).toString()).toBe("z");
		expect(await hostTree(root)).toEqual(["new/", "new/file"]);
	});

	it("a commit after the upload was deleted fails and publishes nothing", async () => {
		const w = await driver.writer("/gone/data");
		await w.write(bytes("abc"));
		await driver.delete("/gone");
		await expect(w.commit()).rejects.toBeInstanceOf(PathNotFoundError);
		expect(await readdir(root)).toEqual([]);
	});

	it("cancel removes the partial and the committed file", async () => {
		await driver.putContent("/x/c", bytes("committed"));
		const w = await driver.writer("/x/c");
		await w.write(bytes("abc"));
		await w.cancel();
		expect(await hostTree(root)).toEqual([]);
		expect(await readFile(join(root, "x", "c")).catch(() => "missing")).toBe("missing");
	});
});
