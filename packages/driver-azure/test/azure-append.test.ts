import { randomBytes } from "node:crypto";
import { type StorageDriver, StorageDriverError } from "@stowage/core";
import { afterAll, describe, expect, inject, it } from "vitest";
import { createAzureDriver } from "../src/index.js";
import { countingContainer, rawContainer } from "./clients.js";
import { driverAt, targetOptions, uniqueRoot } from "./target.js";

const KiB = 1024;
const MiB = 1024 * KiB;
const target = inject("azure");
const raw = rawContainer(target);
const roots: string[] = [];

function root(label: string): string {
	const r = uniqueRoot(label);
	roots.push(r);
	return r;
}

afterAll(async () => {
	for (const r of roots) {
		for await (const b of raw.listBlobsFlat({ prefix: `${r}/`, includeUncommitedBlobs: true })) {
			await raw.deleteBlob(b.name).catch(() => undefined);
		}
	}
});

async function readAll(driver: StorageDriver, path: string): Promise<Buffer> {
	const parts: Buffer[] = [];
	for await (const chunk of await driver.reader(path)) parts.push(chunk as Buffer);
	return Buffer.concat(parts);
}

/**
 * Upload `content` in sessions of the given sizes, each through a new driver instance (as
 * another process would), closing all but the last, which commits. Returns the size each
 * session started at.
 */
async function sessions(
	open: () => StorageDriver,
	path: string,
	content: Buffer,
	sizes: number[],
): Promise<number[]> {
	const starts: number[] = [];
	let offset = 0;
	for (const [i, n] of sizes.entries()) {
		const writer = await open().writer(path, { append: i > 0 });
		starts.push(writer.size);
		await writer.write(content.subarray(offset, offset + n));
		offset += n;
		if (i === sizes.length - 1) await writer.commit();
		else await writer.close();
	}
	expect(offset).toBe(content.length);
	return starts;
}

function prefixSums(sizes: number[]): number[] {
	const out: number[] = [];
	let sum = 0;
	for (const n of sizes) {
		out.push(sum);
		sum += n;
	}
	return out;
}

async function committedBlocks(rootDir: string, path: string) {
	const list = await raw.getBlockBlobClient(`${rootDir}${path}`).getBlockList("all");
	return { committed: list.committedBlocks ?? [], uncommitted: list.uncommittedBlocks ?? [] };
}

async function tailExists(rootDir: string, path: string): Promise<boolean> {
	return raw.getBlobClient(`${rootDir}/~stowage/tails${path}`).exists();
}

describe("appends across writer sessions in separate driver instances", () => {
	it("32-byte sessions: a constant number of requests and bytes per session", async () => {
		const rootDir = root("append32");
		const { container, log } = countingContainer(target);
		const open = () => createAzureDriver({ containerClient: container, rootdirectory: rootDir });
		const path = "/upload/data";
		const count = 120;
		const content = randomBytes(32 * count);
		const sizes = Array.from({ length: count }, () => 32);

		const perSession: number[] = [];
		const bytesPerSession: number[] = [];
		let offset = 0;
		for (let i = 0; i < count - 1; i++) {
			log.reset();
			const writer = await open().writer(path, { append: i > 0 });
			expect(writer.size).toBe(offset);
			await writer.write(content.subarray(offset, offset + 32));
			await writer.close();
			offset += 32;
			perSession.push(log.requests.length);
			bytesPerSession.push(log.uploaded());
		}
		// Resuming reads three things in parallel; closing appends the 32 bytes to the tail blob.
		expect(Math.max(...perSession)).toBeLessThanOrEqual(5);
		// No session re-sends earlier bytes (the S3-style small-part problem is O(n²)).
		expect(Math.max(...bytesPerSession)).toBeLessThanOrEqual(32);

		const last = await open().writer(path, { append: true });
		expect(last.size).toBe(offset);
		await last.write(content.subarray(offset));
		await last.commit();

		const check = open();
		expect((await check.stat(path)).size).toBe(content.length);
		expect((await readAll(check, path)).equals(content)).toBe(true);
		// One block: every byte went through the tail blob, which the commit folded in.
		const blocks = await committedBlocks(rootDir, path);
		expect(blocks.committed.map((b) => b.size)).toEqual([content.length]);
		expect(blocks.uncommitted).toEqual([]);
		expect(await tailExists(rootDir, path)).toBe(false);
		expect(sizes.length).toBe(count);
	});

	it("4 MiB+ sessions with the default 16 MiB blocks", async () => {
		const rootDir = root("append4m");
		const open = () => driverAt(target, rootDir);
		const path = "/upload/data";
		const sizes = Array.from({ length: 6 }, () => 4 * MiB + 1);
		const content = randomBytes(sizes.reduce((a, b) => a + b, 0));
		expect(await sessions(open, path, content, sizes)).toEqual(prefixSums(sizes));
		expect((await readAll(open(), path)).equals(content)).toBe(true);
		const blocks = await committedBlocks(rootDir, path);
		expect(blocks.committed.map((b) => b.size)).toEqual([16 * MiB, content.length - 16 * MiB]);
		expect(await tailExists(rootDir, path)).toBe(false);
	});

	it("sessions smaller and larger than the block size keep every block but the last full", async () => {
		const rootDir = root("mixed");
		const blocksize = 256 * KiB;
		const open = () => driverAt(target, rootDir, { blocksize });
		const path = "/upload/data";
		const sizes = [1, 100 * KiB, 300 * KiB, 32, 1 * MiB + 7, 5, 256 * KiB, 200 * KiB, 3];
		const content = randomBytes(sizes.reduce((a, b) => a + b, 0));
		expect(await sessions(open, path, content, sizes)).toEqual(prefixSums(sizes));
		expect((await readAll(open(), path)).equals(content)).toBe(true);
		const sizesOf = (await committedBlocks(rootDir, path)).committed.map((b) => b.size);
		expect(sizesOf.slice(0, -1).every((n) => n === blocksize)).toBe(true);
		expect(sizesOf.reduce((a, b) => a + b, 0)).toBe(content.length);
	});

	it("tail bytes folded into a block do not count twice when the session never closed", async () => {
		const rootDir = root("promoted");
		const blocksize = 256 * KiB;
		const open = () => driverAt(target, rootDir, { blocksize });
		const path = "/upload/data";
		const content = randomBytes(blocksize + 100 + 5000);

		const first = await open().writer(path);
		await first.write(content.subarray(0, 100));
		await first.close();
		// The second session fills a block (the tail's 100 bytes + blocksize - 100 new ones),
		// buffers 100 more, and dies without closing: the 100 buffered bytes are lost.
		const second = await open().writer(path, { append: true });
		await second.write(content.subarray(100, blocksize + 100));
		expect(second.size).toBe(blocksize + 100);

		const third = await open().writer(path, { append: true });
		expect(third.size, "the staged block, not the stale tail").toBe(blocksize);
		await third.write(content.subarray(blocksize));
		await third.commit();
		expect((await readAll(open(), path)).equals(content)).toBe(true);
	});

	it("writer(path) starts a new upload over an abandoned one", async () => {
		const rootDir = root("restart");
		const open = () => driverAt(target, rootDir, { blocksize: 256 * KiB });
		const path = "/upload/data";
		const abandoned = await open().writer(path);
		await abandoned.write(randomBytes(300 * KiB));
		await abandoned.close();
		expect((await open().writer(path, { append: true })).size).toBe(300 * KiB);

		const fresh = await open().writer(path);
		expect(fresh.size).toBe(0);
		await fresh.write(Buffer.from("new"));
		await fresh.close();
		const resumed = await open().writer(path, { append: true });
		expect(resumed.size, "only the new upload counts").toBe(3);
		await resumed.write(Buffer.from("!"));
		await resumed.commit();
		expect((await open().getContent(path)).toString()).toBe("new!");
		// Committing dropped the abandoned upload's staged block.
		expect((await committedBlocks(rootDir, path)).uncommitted).toEqual([]);
	});

	it("append continues content committed by a writer, not content from putContent", async () => {
		const rootDir = root("continue");
		const driver = driverAt(target, rootDir);
		const w = await driver.writer("/a");
		await w.write(Buffer.from("abc"));
		await w.commit();
		const more = await driver.writer("/a", { append: true });
		expect(more.size).toBe(3);
		await more.write(Buffer.from("def"));
		await more.commit();
		expect((await driver.getContent("/a")).toString()).toBe("abcdef");

		await driver.putContent("/b", Buffer.from("xyz"));
		await expect(driver.writer("/b", { append: true })).rejects.toThrow(StorageDriverError);
		await expect(driver.writer("/b", { append: true })).rejects.toThrow(/putContent|not written/);
	});

	it("the tail blob is hidden from list, stat and walk", async () => {
		const rootDir = root("hidden");
		const driver = driverAt(target, rootDir);
		await driver.putContent("/dir/file", Buffer.from("x"));
		const w = await driver.writer("/dir/upload");
		await w.write(Buffer.from("pending"));
		await w.close();
		expect(await tailExists(rootDir, "/dir/upload")).toBe(true);
		expect(await driver.list("/")).toEqual(["/dir"]);
		expect(await driver.list("/dir")).toEqual(["/dir/file"]);
		const seen: string[] = [];
		await driver.walk("/", (info) => {
			seen.push(info.path);
			return undefined;
		});
		expect(seen).toEqual(["/dir", "/dir/file"]);
		await expect(driver.stat("/dir/upload")).rejects.toThrow(/not found/);
		// At the top of a container `~stowage` is a top-level name, never listed or walked.
		const container = `${target.container}-top`;
		const atTop = createAzureDriver({ ...targetOptions(target), container });
		try {
			const pending = await atTop.writer("/upload");
			await pending.write(Buffer.from("pending"));
			await pending.close();
			expect(await atTop.list("/")).toEqual([]);
			await atTop.putContent("/file", Buffer.from("x"));
			expect(await atTop.list("/")).toEqual(["/file"]);
			const top: string[] = [];
			await atTop.walk("/", (info) => {
				top.push(info.path);
				return undefined;
			});
			expect(top).toEqual(["/file"]);
			expect((await atTop.stat("/")).isDir).toBe(true);
		} finally {
			await rawContainer({ ...target, container }).deleteIfExists();
		}
	});
});
