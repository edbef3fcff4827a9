import { stat as hostStat, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
	type FileInfo,
	InvalidOffsetError,
	PathNotFoundError,
	type StorageDriver,
	StorageDriverError,
} from "@stowage/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFsDriver } from "../src/index.js";
import { bytes, hostTree, readAll, scratch } from "./helpers.js";

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

describe("fs driver basics", () => {
	it("declares its capabilities and name, and creates a missing root", async () => {
		expect(driver.name).toBe("filesystem");
		expect(driver.capabilities).toEqual({
			redirect: false,
			serverSideMove: true,
			minPartSize: 0,
			inProcess: false,
		});
		const nested = join(root, "not", "yet");
		const fresh = createFsDriver({ rootDirectory: nested, name: "fs2" });
		expect(fresh.name).toBe("fs2");
		expect((await hostStat(nested)).isDirectory()).toBe(true);
		expect(await fresh.list("/")).toEqual([]);
	});

	it("stores a path as a plain file under the root", async () => {
		await driver.putContent("/a/b/c", bytes("hello"));
		expect((await readFile(join(root, "a", "b", "c"))).toString()).toBe("hello");
		expect((await driver.getContent("/a/b/c")).toString()).toBe("hello");
		await driver.putContent("/a/b/c", bytes("hi"));
		expect((await driver.getContent("/a/b/c")).toString()).toBe("hi");
		expect(await hostTree(root)).toEqual(["a/", "a/b/", "a/b/c"]);
	});

	it("lists sorted absolute children and stats files and directories", async () => {
		await driver.putContent("/d/b", bytes("1"));
		await driver.putContent("/d/a/x", bytes("22"));
		await driver.putContent("/d/C", bytes("333"));
		expect(await driver.list("/")).toEqual(["/d"]);
		expect(await driver.list("/d")).toEqual(["/d/C", "/d/a", "/d/b"]);
		expect(await driver.stat("/d/a")).toMatchObject({ path: "/d/a", size: 0, isDir: true });
		expect(await driver.stat("/d/C")).toMatchObject({ path: "/d/C", size: 3, isDir: false });
		expect((await driver.stat("/")).isDir).toBe(true);
	});

	it("reports modTime with millisecond precision, later after a rewrite", async () => {
		const before = Date.now();
		await driver.putContent("/t", bytes("1"));
		const first = (await driver.stat("/t")).modTime;
		expect(first.getTime()).toBeGreaterThanOrEqual(before - 1000);
		expect(first.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
		await new Promise((resolve) => setTimeout(resolve, 30));
		await driver.putContent("/t", bytes("2"));
		expect((await driver.stat("/t")).modTime.getTime()).toBeGreaterThan(first.getTime());
	});

	it("maps missing paths, files-as-directories and directories-as-files to PathNotFoundError", async () => {
		await driver.putContent("/d/f", bytes("x"));
		for (const attempt of [
			() => driver.getContent("/missing"),
			() => driver.stat("/missing"),
			() => driver.list("/missing"),
			() => driver.reader("/missing", 64),
			() => driver.delete("/missing"),
			() => driver.getContent("/d/f/below"),
			() => driver.stat("/d/f/below"),
			() => driver.list("/d/f"),
			() => driver.getContent("/d"),
			() => driver.reader("/d"),
		]) {
			const err = await attempt().then(
				() => undefined,
				(e: unknown) => e,
			);
			expect(err).toBeInstanceOf(PathNotFoundError);
			expect((err as Error).message).toContain("filesystem");
		}
	});

	it("refuses to write below a file or over a directory, with typed errors", async () => {
		await driver.putContent("/d/f", bytes("x"));
		await expect(driver.putContent("/d/f/g", bytes("y"))).rejects.toBeInstanceOf(
			StorageDriverError,
		);
		await expect(driver.putContent("/d", bytes("y"))).rejects.toBeInstanceOf(StorageDriverError);
		const w = await driver.writer("/d");
		await w.write(bytes("y"));
		await expect(w.commit()).rejects.toBeInstanceOf(StorageDriverError);
		expect(await hostTree(root)).toEqual(["d/", "d/f", "d~partial"]);
		await driver.delete("/d");
		expect(await hostTree(root)).toEqual([]);
	});

	it("reads from an offset; at or past the end is an empty stream", async () => {
		const data = Buffer.alloc(96);
		for (let i = 0; i < data.length; i++) data[i] = i;
		await driver.putContent("/r", data);
		expect(await readAll(await driver.reader("/r", 0))).toEqual(data);
		expect(await readAll(await driver.reader("/r", 32))).toEqual(data.subarray(32));
		expect(await readAll(await driver.reader("/r", 95))).toEqual(data.subarray(95));
		expect((await readAll(await driver.reader("/r", 96))).length).toBe(0);
		expect((await readAll(await driver.reader("/r", 1000))).length).toBe(0);
		await expect(driver.reader("/r", -1)).rejects.toBeInstanceOf(InvalidOffsetError);
	});

	it("reads a snapshot: a reader opened before a rewrite keeps the old content", async () => {
		const old = Buffer.alloc(256 * 1024, 1);
		await driver.putContent("/snap", old);
		const stream = await driver.reader("/snap");
		await driver.putContent("/snap", Buffer.alloc(10, 2));
		expect(await readAll(stream)).toEqual(old);
	});

	it("moves files and directories, overwriting, and refuses bad moves", async () => {
		await driver.putContent("/src/f", bytes("new"));
		await driver.putContent("/dst/f", bytes("old, longer"));
		await driver.move("/src/f", "/dst/f");
		expect((await driver.getContent("/dst/f")).toString()).toBe("new");
		await expect(driver.getContent("/src/f")).rejects.toBeInstanceOf(PathNotFoundError);

		await expect(driver.move("/nope", "/dst/f")).rejects.toBeInstanceOf(PathNotFoundError);
		expect((await driver.getContent("/dst/f")).toString()).toBe("new");

		await driver.putContent("/notadir", bytes("f"));
		await expect(driver.move("/dst/f", "/notadir/foo")).rejects.toBeInstanceOf(StorageDriverError);
		await expect(driver.move("/dst", "/dst/inner")).rejects.toBeInstanceOf(StorageDriverError);
		expect((await driver.getContent("/dst/f")).toString()).toBe("new");

		await driver.move("/dst", "/moved/dst");
		expect((await driver.getContent("/moved/dst/f")).toString()).toBe("new");
		expect(await driver.list("/")).toEqual(["/moved", "/notadir"]);
		expect(await hostTree(root)).toEqual(["moved/", "moved/dst/", "moved/dst/f", "notadir"]);
	});

	it("deletes recursively, true subpaths only", async () => {
		await driver.putContent("/d/f", bytes("1"));
		await driver.putContent("/d/fsuffix", bytes("2"));
		await driver.putContent("/d/d/x", bytes("3"));
		await driver.putContent("/d/d/y/z", bytes("3"));
		await driver.putContent("/d/dsuffix/f", bytes("4"));
		await driver.delete("/d/f");
		await driver.delete("/d/d");
		expect(await driver.list("/d")).toEqual(["/d/dsuffix", "/d/fsuffix"]);
		await expect(driver.delete("/d/d")).rejects.toBeInstanceOf(PathNotFoundError);
	});

	it("walks each directory before its contents and never shows hidden files", async () => {
		await driver.putContent("/w/b/1", bytes("1"));
		await driver.putContent("/w/a", bytes("2"));
		await writeFile(join(root, "w", "a~tmp~leftover"), "junk");
		const open = await driver.writer("/w/b/0");
		await open.write(bytes("pending"));
		await open.close();
		const seen: FileInfo[] = [];
		await driver.walk("/", (info) => {
			seen.push(info);
			return undefined;
		});
		expect(seen.map((i) => i.path)).toEqual(["/w", "/w/a", "/w/b", "/w/b/1"]);
	});

	it("returns no redirect URL", async () => {
		await driver.putContent("/x", bytes("x"));
		expect(await driver.redirectURL("/x", { method: "GET" })).toBeUndefined();
	});
});
