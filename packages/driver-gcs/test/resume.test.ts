import { PathNotFoundError, type StorageDriver } from "@stowage/core";
import { describe, expect, it } from "vitest";
import { KiB, random, rawNames, readAll } from "./helpers.js";
import { freshDriver, reopen } from "./target.js";

const CHUNK = 512 * KiB;
const G = 256 * KiB;

/**
 * Upload `data` in sessions ending at `cuts`, each session in a new driver instance (another
 * process's view), writing in odd-sized pieces; every session must start at the previous end.
 */
async function sessions(first: StorageDriver, path: string, data: Buffer, cuts: number[]) {
	const ends = [...cuts, data.length];
	let start = 0;
	for (const [i, end] of ends.entries()) {
		const driver = i === 0 ? first : reopen(first);
		const w = await driver.writer(path, { append: i > 0 });
		expect(w.size, `session ${i} starts where the last ended`).toBe(start);
		for (let at = start; at < end; at += 100_003) {
			await w.write(data.subarray(at, Math.min(end, at + 100_003)));
		}
		expect(w.size).toBe(end);
		if (i === ends.length - 1) await w.commit();
		else await w.close();
		start = end;
	}
}

describe("resume at any offset, across driver instances", () => {
	const cases: [string, number[], number][] = [
		["1 byte", [1], 1000],
		["256 KiB - 1", [G - 1], G + 10],
		["256 KiB", [G], G + 10],
		["256 KiB + 1", [G + 1], 2 * G],
		["chunk size - 1", [CHUNK - 1], CHUNK + 5],
		["chunk size", [CHUNK], CHUNK + 5],
		["chunk size + 1", [CHUNK + 1], 3 * CHUNK],
		["many odd cuts", [1, 2, G + 1, 2 * CHUNK + 3, 2 * CHUNK + 4, 4 * CHUNK - 1], 5 * CHUNK + 17],
		["sessions spanning several chunks", [3 * CHUNK + 17, 7 * CHUNK], 7 * CHUNK + 1],
	];
	for (const [label, cuts, size] of cases) {
		it(label, async () => {
			const driver = freshDriver({ chunksize: CHUNK });
			const path = "/uploads/u1/data";
			const data = random(size);
			await sessions(driver, path, data, cuts);
			expect((await driver.stat(path)).size).toBe(size);
			expect((await readAll(await reopen(driver).reader(path))).equals(data)).toBe(true);
			expect(await rawNames(driver), "no upload parts are left").toEqual(["uploads/u1/data"]);
			await driver.delete("/uploads");
		});
	}

	it("32-byte appends across 100 sessions (parts are compacted on the way)", async () => {
		const driver = freshDriver({ chunksize: CHUNK });
		const path = "/small/data";
		const data = random(32 * 100);
		let mostParts = 0;
		for (let i = 0; i < 100; i++) {
			const d = i % 2 === 0 ? driver : reopen(driver);
			const w = await d.writer(path, { append: i > 0 });
			expect(w.size).toBe(32 * i);
			await w.write(data.subarray(32 * i, 32 * (i + 1)));
			if (i === 99) await w.commit();
			else await w.close();
			if (i % 10 === 9) mostParts = Math.max(mostParts, (await rawNames(driver)).length);
		}
		expect(mostParts, "parts stay below GCS's 32-source compose limit").toBeLessThanOrEqual(32);
		expect((await driver.getContent(path)).equals(data)).toBe(true);
		expect(await rawNames(driver)).toEqual(["small/data"]);
		await driver.delete(path);
	}, 120_000);

	it("256 KiB ± 1 appends across sessions", async () => {
		const driver = freshDriver({ chunksize: CHUNK });
		const sizes = [G - 1, G + 1, G, G + 1, G - 1, 2 * G + 1];
		const data = random(sizes.reduce((a, b) => a + b, 0));
		const cuts: number[] = [];
		let at = 0;
		for (const s of sizes.slice(0, -1)) {
			at += s;
			cuts.push(at);
		}
		await sessions(driver, "/pm/data", data, cuts);
		expect((await driver.getContent("/pm/data")).equals(data)).toBe(true);
		await driver.delete("/pm");
	});
});

describe("what a session leaves behind", () => {
	it("a writer that stops without close (a crash) leaves the upload at its last close", async () => {
		const driver = freshDriver({ chunksize: CHUNK });
		const path = "/crash/data";
		const data = random(4 * CHUNK);
		const w1 = await driver.writer(path);
		await w1.write(data.subarray(0, 1000));
		await w1.close();
		// This one sends two chunks to its session, then the process "dies".
		const w2 = await reopen(driver).writer(path, { append: true });
		await w2.write(data.subarray(1000, 1000 + 2 * CHUNK + 5));
		const w3 = await reopen(driver).writer(path, { append: true });
		expect(w3.size).toBe(1000);
		await w3.write(data.subarray(1000));
		await w3.commit();
		expect((await driver.getContent(path)).equals(data)).toBe(true);
		await driver.delete("/crash");
	});

	it("an empty session still leaves a resumable upload; a committed empty file takes appends", async () => {
		const driver = freshDriver();
		const w = await driver.writer("/e/data");
		await w.close();
		const again = await reopen(driver).writer("/e/data", { append: true });
		expect(again.size).toBe(0);
		await again.write(Buffer.from("abc"));
		await again.commit();
		expect((await driver.getContent("/e/data")).toString()).toBe("abc");

		await driver.putContent("/e/empty", Buffer.alloc(0));
		const w2 = await driver.writer("/e/empty", { append: true });
		expect(w2.size).toBe(0);
		await w2.write(Buffer.from("xyz"));
		await w2.close();
		// Uncommitted: the committed (empty) content is what readers see.
		expect((await driver.getContent("/e/empty")).length).toBe(0);
		const w3 = await driver.writer("/e/empty", { append: true });
		expect(w3.size).toBe(3);
		await w3.commit();
		expect((await driver.getContent("/e/empty")).toString()).toBe("xyz");
		expect((await rawNames(driver)).sort()).toEqual(["e/data", "e/empty"]);
		await driver.delete("/e");
	});

	it("append continues committed content; a missing path is PathNotFound", async () => {
		const driver = freshDriver({ chunksize: CHUNK });
		const first = random(CHUNK + 3);
		const more = random(CHUNK + 5);
		await driver.putContent("/c/full", first);
		const w = await driver.writer("/c/full", { append: true });
		expect(w.size).toBe(first.length);
		await w.write(more.subarray(0, 100));
		await w.close();
		// Until commit, readers see the committed content.
		expect((await driver.getContent("/c/full")).equals(first)).toBe(true);
		const w2 = await reopen(driver).writer("/c/full", { append: true });
		expect(w2.size).toBe(first.length + 100);
		await w2.write(more.subarray(100));
		await w2.commit();
		expect((await driver.getContent("/c/full")).equals(Buffer.concat([first, more]))).toBe(true);
		expect(await rawNames(driver)).toEqual(["c/full"]);

		// A commit with nothing new leaves committed content as it is.
		const w3 = await driver.writer("/c/full", { append: true });
		await w3.commit();
		expect((await driver.stat("/c/full")).size).toBe(first.length + more.length);

		await expect(driver.writer("/c/none", { append: true })).rejects.toBeInstanceOf(
			PathNotFoundError,
		);
		await driver.delete("/c");
	});

	it("an upload continuing committed content refuses to resume once that content changed", async () => {
		const driver = freshDriver();
		await driver.putContent("/r/data", Buffer.from("12345"));
		const w = await driver.writer("/r/data", { append: true });
		await w.write(Buffer.from("678"));
		await w.close();
		await driver.putContent("/r/data", Buffer.from("other content"));
		await expect(driver.writer("/r/data", { append: true })).rejects.toThrow(/inconsistent/);

		// Same size, another generation: the commit's precondition catches it.
		await driver.putContent("/r/same", Buffer.from("12345"));
		const w2 = await driver.writer("/r/same", { append: true });
		await w2.write(Buffer.from("678"));
		await driver.putContent("/r/same", Buffer.from("abcde"));
		await expect(w2.commit()).rejects.toThrow(/another writer/);
		expect((await driver.getContent("/r/same")).toString()).toBe("abcde");
		await driver.delete("/r");
	});

	it("a new writer (no append) discards an unfinished upload; cancel removes every part", async () => {
		const driver = freshDriver({ chunksize: CHUNK });
		const w1 = await driver.writer("/n/data");
		await w1.write(random(CHUNK + 10));
		await w1.close();
		const w2 = await driver.writer("/n/data");
		expect(w2.size).toBe(0);
		await w2.write(Buffer.from("fresh"));
		await w2.commit();
		expect((await driver.getContent("/n/data")).toString()).toBe("fresh");

		const w3 = await driver.writer("/n/other");
		await w3.write(random(2 * CHUNK + 1));
		await w3.close();
		const w4 = await reopen(driver).writer("/n/other", { append: true });
		await w4.write(random(10));
		await w4.cancel();
		expect(await rawNames(driver)).toEqual(["n/data"]);
		await driver.delete("/n");
	});
});

describe("hidden upload parts", () => {
	it("never show through list, stat, walk or reader, and go with delete of their path only", async () => {
		const driver = freshDriver({ chunksize: CHUNK });
		const w = await driver.writer("/h/d/data");
		await w.write(random(CHUNK + 1));
		await w.close();
		const sibling = await driver.writer("/h/d/data-x");
		await sibling.write(random(10));
		await sibling.close();
		expect((await rawNames(driver)).length).toBe(2);

		expect(await driver.list("/")).toEqual(["/h"]);
		expect(await driver.list("/h/d")).toEqual([]);
		expect((await driver.stat("/h/d")).isDir).toBe(true);
		await expect(driver.stat("/h/d/data")).rejects.toBeInstanceOf(PathNotFoundError);
		await expect(driver.reader("/h/d/data")).rejects.toBeInstanceOf(PathNotFoundError);
		await expect(driver.getContent("/h/d/data")).rejects.toBeInstanceOf(PathNotFoundError);
		const walked: string[] = [];
		await driver.walk("/", (info) => {
			walked.push(info.path);
			return undefined;
		});
		expect(walked).toEqual(["/h", "/h/d"]);

		await driver.delete("/h/d/data");
		const left = await rawNames(driver);
		expect(left.length).toBe(1);
		expect(left[0]).toMatch(/^h\/d\/data-x~upload\//);
		await driver.delete("/h");
		expect(await rawNames(driver)).toEqual([]);
		expect(await driver.list("/")).toEqual([]);
	});
});
