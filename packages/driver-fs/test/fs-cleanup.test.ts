import { readdir } from "node:fs/promises";
import type { StorageDriver } from "@stowage/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFsDriver } from "../src/index.js";
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

describe("emptied directory cleanup", () => {
	it("delete removes emptied parents up to the root, and only those", async () => {
		await driver.putContent("/a/b/c/d", bytes("1"));
		await driver.putContent("/a/x", bytes("2"));
		await driver.delete("/a/b/c/d");
		expect(await hostTree(root)).toEqual(["a/", "a/x"]);
		await driver.delete("/a/x");
		expect(await driver.list("/")).toEqual([]);
		expect(await readdir(root)).toEqual([]);
	});

	it("move removes the emptied source directories", async () => {
		await driver.putContent("/s/t/u/f", bytes("1"));
		await driver.move("/s/t/u/f", "/d/f");
		expect(await hostTree(root)).toEqual(["d/", "d/f"]);
		await driver.move("/d", "/e/d");
		expect(await hostTree(root)).toEqual(["e/", "e/d/", "e/d/f"]);
		await driver.delete("/e");
		expect(await readdir(root)).toEqual([]);
	});

	it("cancel removes the directories the writer made", async () => {
		const w = await driver.writer("/r/_uploads/u/data");
		await w.write(bytes("abc"));
		await w.cancel();
		expect(await readdir(root)).toEqual([]);
	});

	it("a closed, uncommitted upload keeps its directory until deleted", async () => {
		await driver.putContent("/r/_uploads/u/startedat", bytes("now"));
		const w = await driver.writer("/r/_uploads/u/data");
		await w.write(bytes("abc"));
		await w.close();
		await driver.delete("/r/_uploads/u/startedat");
		// The hidden partial keeps the directory: the upload is still resumable.
		expect(await driver.list("/r/_uploads")).toEqual(["/r/_uploads/u"]);
		expect(await driver.list("/r/_uploads/u")).toEqual([]);
		const resumed = await driver.writer("/r/_uploads/u/data", { append: true });
		expect(resumed.size).toBe(3);
		await resumed.close();
		// Deleting the data path discards the upload and prunes what it leaves empty.
		await driver.delete("/r/_uploads/u/data");
		expect(await readdir(root)).toEqual([]);
	});

	it("writers and puts survive concurrent cleanups of their directory", async () => {
		// Each delete empties /p/q and prunes it while the next create races to recreate it.
		await driver.putContent("/p/q/f0", bytes("0"));
		const rounds = 150;
		for (let i = 1; i <= rounds; i++) {
			const write =
				i % 2 === 0
					? driver.putContent(`/p/q/f${i}`, bytes(String(i)))
					: driver.writer(`/p/q/f${i}`).then(async (w) => {
							await w.write(bytes(String(i)));
							await w.commit();
						});
			await Promise.all([write, driver.delete(`/p/q/f${i - 1}`)]);
			expect((await driver.getContent(`/p/q/f${i}`)).toString()).toBe(String(i));
		}
		await driver.delete(`/p/q/f${rounds}`);
		expect(await readdir(root)).toEqual([]);
	});

	it("puts into new subdirectories survive concurrent prunes of their shared parent", async () => {
		// What concurrent small pushes do: each makes /up/<id>/ and removes it when done, so /up is
		// pruned and remade under the others' mkdir -p (which then sees a parent vanish).
		const worker = async (w: number) => {
			for (let i = 0; i < 40; i++) {
				const path = `/up/${w}-${i}/startedat`;
				await driver.putContent(path, bytes(`${w}-${i}`));
				expect((await driver.getContent(path)).toString()).toBe(`${w}-${i}`);
				await driver.delete(`/up/${w}-${i}`);
			}
		};
		await Promise.all(Array.from({ length: 16 }, (_, w) => worker(w)));
		expect(await readdir(root)).toEqual([]);
	});

	it("moves survive concurrent cleanups of the destination directory", async () => {
		await driver.putContent("/dst/dir/keep0", bytes("k"));
		for (let i = 1; i <= 100; i++) {
			await driver.putContent(`/src/${i}`, bytes(String(i)));
			await Promise.all([
				driver.move(`/src/${i}`, `/dst/dir/keep${i}`),
				driver.delete(`/dst/dir/keep${i - 1}`),
			]);
			expect((await driver.getContent(`/dst/dir/keep${i}`)).toString()).toBe(String(i));
		}
		await driver.delete("/dst");
		expect(await readdir(root)).toEqual([]);
	});
});
