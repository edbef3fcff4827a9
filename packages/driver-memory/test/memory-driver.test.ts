import type { Readable } from "node:stream";
import {
	checkedDriver,
	type FileInfo,
	InvalidPathError,
	OperationAbortedError,
	PathNotFoundError,
	type StorageDriver,
	StorageDriverError,
} from "@stowage/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createMemoryDriver, MemoryDriver } from "../src/index.js";

async function readAll(stream: Readable): Promise<Buffer> {
	const chunks: Buffer[] = [];
	for await (const chunk of stream) chunks.push(chunk as Buffer);
	return Buffer.concat(chunks);
}

const bytes = (text: string) => Buffer.from(text);

let driver: StorageDriver;

beforeEach(() => {
	driver = createMemoryDriver();
});

afterEach(async () => {
	// The conformance suite's teardown rule: everything a test made can be removed again.
	for (const child of await driver.list("/")) await driver.delete(child);
	expect(await driver.list("/")).toEqual([]);
});

describe("memory driver basics", () => {
	it("declares its capabilities and name", () => {
		expect(driver.name).toBe("inmemory");
		expect(driver.capabilities).toEqual({
			redirect: false,
			serverSideMove: true,
			minPartSize: 0,
			inProcess: true,
		});
		expect(createMemoryDriver({ name: "mem2" }).name).toBe("mem2");
	});

	it("keeps its own copies of content", async () => {
		const input = bytes("hello");
		await driver.putContent("/a/b", input);
		input.fill(0);
		const out = await driver.getContent("/a/b");
		expect(out.toString()).toBe("hello");
		out.fill(0);
		expect((await driver.getContent("/a/b")).toString()).toBe("hello");
	});

	it("lists sorted children and synthesizes directories", async () => {
		await driver.putContent("/d/b", bytes("1"));
		await driver.putContent("/d/a/x", bytes("22"));
		await driver.putContent("/d/c", bytes("333"));
		expect(await driver.list("/")).toEqual(["/d"]);
		expect(await driver.list("/d")).toEqual(["/d/a", "/d/b", "/d/c"]);
		const dir = await driver.stat("/d/a");
		expect(dir).toMatchObject({ path: "/d/a", size: 0, isDir: true });
		expect(await driver.stat("/d/c")).toMatchObject({ size: 3, isDir: false });
		expect((await driver.stat("/")).isDir).toBe(true);
	});

	it("treats a file as no directory and a directory as no file", async () => {
		await driver.putContent("/d/f", bytes("x"));
		await expect(driver.list("/d/f")).rejects.toBeInstanceOf(PathNotFoundError);
		await expect(driver.getContent("/d")).rejects.toBeInstanceOf(PathNotFoundError);
		await expect(driver.reader("/d")).rejects.toBeInstanceOf(PathNotFoundError);
		await expect(driver.getContent("/d/f/g")).rejects.toBeInstanceOf(PathNotFoundError);
		await expect(driver.putContent("/d/f/g", bytes("y"))).rejects.toBeInstanceOf(
			StorageDriverError,
		);
		await expect(driver.putContent("/d", bytes("y"))).rejects.toBeInstanceOf(StorageDriverError);
		expect(await driver.list("/d")).toEqual(["/d/f"]);
	});

	it("names itself in errors and rejects invalid paths through the wrapper", async () => {
		const err = await driver.getContent("/missing").catch((e: unknown) => e);
		expect(err).toBeInstanceOf(PathNotFoundError);
		expect((err as Error).message).toContain("inmemory");
		await expect(driver.putContent("/a/../b", bytes("x"))).rejects.toBeInstanceOf(InvalidPathError);
	});

	it("reads from an offset, and past the end gives an empty stream", async () => {
		const data = Buffer.alloc(200_000, 7);
		data[150_000] = 1;
		await driver.putContent("/r", data);
		expect(await readAll(await driver.reader("/r", 150_000))).toEqual(data.subarray(150_000));
		expect((await readAll(await driver.reader("/r", 200_000))).length).toBe(0);
		expect((await readAll(await driver.reader("/r", 500_000))).length).toBe(0);
		await expect(driver.reader("/missing", 0)).rejects.toBeInstanceOf(PathNotFoundError);
	});
});

describe("memory driver writers", () => {
	it("resumes an upload across writer sessions and counts earlier bytes in size", async () => {
		const first = await driver.writer("/up/data");
		await first.write(bytes("abc"));
		expect(first.size).toBe(3);
		await first.close();

		// Uncommitted bytes are invisible.
		await expect(driver.stat("/up/data")).rejects.toBeInstanceOf(PathNotFoundError);
		await expect(driver.getContent("/up/data")).rejects.toBeInstanceOf(PathNotFoundError);
		expect(await driver.list("/up")).toEqual([]);

		const second = await driver.writer("/up/data", { append: true });
		expect(second.size).toBe(3);
		await second.write(bytes("def"));
		expect(second.size).toBe(6);
		await second.close();

		const third = await driver.writer("/up/data", { append: true });
		expect(third.size).toBe(6);
		await third.write(bytes("g"));
		await third.commit();
		expect((await driver.getContent("/up/data")).toString()).toBe("abcdefg");
		expect((await driver.stat("/up/data")).size).toBe(7);
	});

	it("lets a second engine instance resume on the same driver object", async () => {
		const shared = new MemoryDriver();
		const engineA = checkedDriver(shared);
		const engineB = checkedDriver(new Proxy(shared, {})); // a distinct wrapper, same state
		const w = await engineA.writer("/u/1");
		await w.write(bytes("part1-"));
		await w.close();
		const resumed = await engineB.writer("/u/1", { append: true });
		expect(resumed.size).toBe(6);
		await resumed.write(bytes("part2"));
		await resumed.commit();
		expect((await engineA.getContent("/u/1")).toString()).toBe("part1-part2");
		await engineA.delete("/u");
	});

	it("starts anew without append, discarding an earlier upload", async () => {
		const w = await driver.writer("/f");
		await w.write(bytes("old"));
		await w.close();
		const fresh = await driver.writer("/f");
		expect(fresh.size).toBe(0);
		await fresh.write(bytes("new"));
		await fresh.commit();
		expect((await driver.getContent("/f")).toString()).toBe("new");
	});

	it("appends to committed content, which stays readable until commit", async () => {
		await driver.putContent("/empty", new Uint8Array(0));
		const w = await driver.writer("/empty", { append: true });
		expect(w.size).toBe(0);
		await w.write(bytes("x".repeat(32)));
		expect((await driver.stat("/empty")).size).toBe(0);
		await w.commit();
		expect((await driver.getContent("/empty")).toString()).toBe("x".repeat(32));

		const more = await driver.writer("/empty", { append: true });
		expect(more.size).toBe(32);
		await more.write(bytes("y"));
		await more.commit();
		expect((await driver.stat("/empty")).size).toBe(33);
	});

	it("appends from nothing when the path is missing", async () => {
		const w = await driver.writer("/new/file", { append: true });
		expect(w.size).toBe(0);
		await w.write(bytes("z"));
		await w.commit();
		expect((await driver.getContent("/new/file")).toString()).toBe("z");
	});

	it("cancel discards this and earlier sessions and the committed file", async () => {
		await driver.putContent("/c/f", bytes("committed"));
		const w = await driver.writer("/c/f");
		await w.write(bytes("abc"));
		await w.close();
		const again = await driver.writer("/c/f", { append: true });
		await again.cancel();
		await expect(driver.stat("/c/f")).rejects.toBeInstanceOf(PathNotFoundError);
		expect(await driver.list("/")).toEqual([]);
		const after = await driver.writer("/c/f", { append: true });
		expect(after.size).toBe(0);
		await after.cancel();
	});

	it("keeps an uncommitted upload's directory, and delete removes it", async () => {
		const w = await driver.writer("/up/x/data");
		await w.write(bytes("abc"));
		await w.close();
		expect(await driver.list("/up")).toEqual(["/up/x"]);
		expect(await driver.list("/up/x")).toEqual([]);
		await driver.delete("/up/x/data");
		expect(await driver.list("/")).toEqual([]);
		await expect(driver.delete("/up/x/data")).rejects.toBeInstanceOf(PathNotFoundError);
	});

	it("a writer whose upload was deleted cannot commit", async () => {
		const w = await driver.writer("/gone/data");
		await w.write(bytes("abc"));
		await driver.delete("/gone");
		await expect(w.commit()).rejects.toBeInstanceOf(PathNotFoundError);
		await expect(driver.stat("/gone/data")).rejects.toBeInstanceOf(PathNotFoundError);
	});

	it("refuses writes after its signal aborts but can still close", async () => {
		const controller = new AbortController();
		const w = await driver.writer("/ab", { signal: controller.signal });
		await w.write(bytes("a"));
		controller.abort();
		await expect(w.write(bytes("b"))).rejects.toBeInstanceOf(OperationAbortedError);
		await w.close();
		const resumed = await driver.writer("/ab", { append: true });
		expect(resumed.size).toBe(1);
		await resumed.cancel();
	});
});

describe("memory driver move, delete, walk", () => {
	it("moves, overwriting, and prunes the emptied source directories", async () => {
		await driver.putContent("/src/deep/f", bytes("new"));
		await driver.putContent("/dst/f", bytes("old-content"));
		await driver.move("/src/deep/f", "/dst/f");
		expect((await driver.getContent("/dst/f")).toString()).toBe("new");
		expect(await driver.list("/")).toEqual(["/dst"]);
	});

	it("fails to move a missing source, leaving the destination", async () => {
		await driver.putContent("/dst", bytes("keep"));
		await expect(driver.move("/nope", "/dst")).rejects.toBeInstanceOf(PathNotFoundError);
		expect((await driver.getContent("/dst")).toString()).toBe("keep");
	});

	it("fails to move under a file or into itself", async () => {
		await driver.putContent("/notadir", bytes("f"));
		await driver.putContent("/m/x", bytes("x"));
		await expect(driver.move("/m/x", "/notadir/foo")).rejects.toBeInstanceOf(StorageDriverError);
		await expect(driver.move("/m", "/m/inner")).rejects.toBeInstanceOf(StorageDriverError);
		await expect(driver.move("/notadir", "/m")).rejects.toBeInstanceOf(StorageDriverError);
		expect((await driver.getContent("/m/x")).toString()).toBe("x");
	});

	it("moves directories", async () => {
		await driver.putContent("/a/b/c", bytes("c"));
		await driver.move("/a/b", "/z/b");
		expect((await driver.getContent("/z/b/c")).toString()).toBe("c");
		expect(await driver.list("/")).toEqual(["/z"]);
	});

	it("deletes true subpaths only", async () => {
		await driver.putContent("/d/f", bytes("1"));
		await driver.putContent("/d/fsuffix", bytes("2"));
		await driver.putContent("/d/d/x", bytes("3"));
		await driver.putContent("/d/dsuffix/f", bytes("4"));
		await driver.delete("/d/f");
		await driver.delete("/d/d");
		expect(await driver.list("/d")).toEqual(["/d/dsuffix", "/d/fsuffix"]);
		await expect(driver.delete("/d/f")).rejects.toBeInstanceOf(PathNotFoundError);
	});

	it("walks each directory before its contents", async () => {
		await driver.putContent("/w/b/1", bytes("1"));
		await driver.putContent("/w/a", bytes("2"));
		await driver.putContent("/w/b/0", bytes("3"));
		const seen: FileInfo[] = [];
		await driver.walk("/w", (info) => {
			seen.push(info);
			return undefined;
		});
		expect(seen.map((i) => i.path)).toEqual(["/w/a", "/w/b", "/w/b/0", "/w/b/1"]);
		expect(seen.map((i) => i.isDir)).toEqual([false, true, false, false]);
	});

	it("aborting a reader destroys it with OperationAbortedError, without unhandled rejections", async () => {
		const unhandled: unknown[] = [];
		const onUnhandled = (reason: unknown) => unhandled.push(reason);
		process.on("unhandledRejection", onUnhandled);
		try {
			await driver.putContent("/big", Buffer.alloc(1024 * 1024, 1));
			const controller = new AbortController();
			const stream = await driver.reader("/big", 0, { signal: controller.signal });
			let received = 0;
			const consumed = (async () => {
				for await (const chunk of stream) {
					received += (chunk as Buffer).length;
					if (received >= 64 * 1024) controller.abort();
				}
			})();
			await expect(consumed).rejects.toBeInstanceOf(OperationAbortedError);
			expect(stream.destroyed).toBe(true);
			expect(received).toBeLessThan(1024 * 1024);
			await expect(
				driver.getContent("/big", { signal: AbortSignal.abort() }),
			).rejects.toBeInstanceOf(OperationAbortedError);
			await new Promise((resolve) => setTimeout(resolve, 20));
			expect(unhandled).toEqual([]);
		} finally {
			process.off("unhandledRejection", onUnhandled);
		}
	});
});
