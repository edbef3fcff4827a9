import { randomBytes } from "node:crypto";
import { PathNotFoundError, Registry } from "@stowage/core";
import { describe, expect, inject, it } from "vitest";
import { rawContainer } from "./clients.js";
import { driverAt, uniqueRoot } from "./target.js";

const KiB = 1024;

async function* body(data: Uint8Array): AsyncGenerator<Uint8Array> {
	yield data;
}
const target = inject("azure");
const raw = rawContainer(target);

/** Every blob under the root, staged-only ones included, as Azure reports them. */
async function everything(rootDir: string): Promise<string[]> {
	const names: string[] = [];
	for await (const b of raw.listBlobsFlat({
		prefix: `${rootDir}/`,
		includeUncommitedBlobs: true,
	})) {
		names.push(b.name.slice(rootDir.length));
	}
	return names;
}

async function staged(rootDir: string, path: string): Promise<number> {
	try {
		const list = await raw.getBlockBlobClient(`${rootDir}${path}`).getBlockList("uncommitted");
		return (list.uncommittedBlocks ?? []).length;
	} catch (err) {
		if ((err as { statusCode?: number }).statusCode === 404) return 0;
		throw err;
	}
}

describe("staged-but-uncommitted blocks do not outlive their upload", () => {
	it("cancel removes the staged blocks and the tail blob", async () => {
		const rootDir = uniqueRoot("cancel");
		const open = () => driverAt(target, rootDir, { blocksize: 64 * KiB });
		const path = "/up/data";
		const first = await open().writer(path);
		await first.write(randomBytes(200 * KiB));
		await first.close();
		expect(await staged(rootDir, path)).toBe(3);
		expect(await everything(rootDir)).toEqual([path, `/~stowage/tails${path}`]);

		const resumed = await open().writer(path, { append: true });
		expect(resumed.size).toBe(200 * KiB);
		await resumed.write(randomBytes(10));
		await resumed.cancel();
		expect(await staged(rootDir, path)).toBe(0);
		expect(await everything(rootDir)).toEqual([]);
		const again = await open().writer(path, { append: true });
		expect(again.size).toBe(0);
		await again.cancel();
	});

	it("cancel of an append to a committed empty file removes it", async () => {
		const rootDir = uniqueRoot("cancel-empty");
		const driver = driverAt(target, rootDir);
		await driver.putContent("/empty", new Uint8Array(0));
		const w = await driver.writer("/empty", { append: true });
		await w.write(Buffer.from("abc"));
		await w.cancel();
		await expect(driver.stat("/empty")).rejects.toBeInstanceOf(PathNotFoundError);
		expect(await everything(rootDir)).toEqual([]);
	});

	it("delete of the upload's directory (what purge does) removes staged blocks and tail", async () => {
		const rootDir = uniqueRoot("purge");
		const driver = driverAt(target, rootDir, { blocksize: 64 * KiB });
		const registry = new Registry({ driver });
		const repo = registry.repository("purge/me");
		const { id } = await repo.uploads.start();
		await repo.uploads.write(id, body(randomBytes(150 * KiB)));
		const data = registry.layout.uploadData("purge/me", id);
		expect(await staged(rootDir, data)).toBe(2);
		expect((await everything(rootDir)).some((n) => n.startsWith("/~stowage/tails/"))).toBe(true);

		const purged = await registry.purgeUploads({ olderThan: -1 });
		expect(purged.removed.map((u) => u.id)).toEqual([id]);
		expect(await staged(rootDir, data)).toBe(0);
		expect(await everything(rootDir)).toEqual([]);
	});

	it("delete of a path holding only an upload succeeds, then reports PathNotFound", async () => {
		const rootDir = uniqueRoot("delete-upload");
		const driver = driverAt(target, rootDir, { blocksize: 64 * KiB });
		const w = await driver.writer("/only/upload");
		await w.write(randomBytes(70 * KiB));
		await w.close();
		await driver.delete("/only/upload");
		expect(await everything(rootDir)).toEqual([]);
		await expect(driver.delete("/only/upload")).rejects.toBeInstanceOf(PathNotFoundError);
	});

	it("a writer whose upload was deleted underneath cannot commit", async () => {
		const rootDir = uniqueRoot("deleted-underneath");
		const driver = driverAt(target, rootDir, { blocksize: 64 * KiB });
		const w = await driver.writer("/up");
		await w.write(randomBytes(100 * KiB));
		await driver.delete("/up");
		await expect(w.commit()).rejects.toBeInstanceOf(PathNotFoundError);
		expect(await everything(rootDir)).toEqual([]);
	});
});
