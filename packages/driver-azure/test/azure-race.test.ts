import { randomBytes } from "node:crypto";
import { StorageDriverError } from "@stowage/core";
import { describe, expect, inject, it } from "vitest";
import { driverAt, uniqueRoot } from "./target.js";

const KiB = 1024;
const target = inject("azure");

async function settle<T>(tasks: Promise<T>[]) {
	return Promise.allSettled(tasks);
}

describe("conditional requests where two writers race", () => {
	it("two new uploads of one path: one commit wins whole, the other is refused", async () => {
		const rootDir = uniqueRoot("race-commit");
		const a = driverAt(target, rootDir);
		const b = driverAt(target, rootDir);
		const [ca, cb] = [randomBytes(100 * KiB), randomBytes(120 * KiB)];
		const wa = await a.writer("/x");
		const wb = await b.writer("/x");
		await wa.write(ca);
		await wb.write(cb);
		const results = await settle([wa.commit(), wb.commit()]);
		const ok = results.filter((r) => r.status === "fulfilled");
		const failed = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
		expect(ok.length).toBe(1);
		expect(failed.length).toBe(1);
		expect(failed[0]?.reason).toBeInstanceOf(StorageDriverError);
		expect(String(failed[0]?.reason.message)).toMatch(/changed by another writer/);
		const content = await a.getContent("/x");
		expect(content.equals(ca) || content.equals(cb)).toBe(true);
		await a.delete("/x");
	});

	it("putContent during an upload makes the upload's commit fail instead of overwriting", async () => {
		const rootDir = uniqueRoot("race-put");
		const driver = driverAt(target, rootDir);
		const w = await driver.writer("/x");
		await w.write(Buffer.from("from the upload"));
		await driver.putContent("/x", Buffer.from("from putContent"));
		await expect(w.commit()).rejects.toThrow(/changed by another writer/);
		expect((await driver.getContent("/x")).toString()).toBe("from putContent");
		await driver.delete("/x");
	});

	it("two sessions appending to one upload's tail: one append is refused", async () => {
		const rootDir = uniqueRoot("race-tail");
		const open = () => driverAt(target, rootDir);
		const first = await open().writer("/up");
		await first.write(Buffer.from("0123"));
		await first.close();
		const a = await open().writer("/up", { append: true });
		const b = await open().writer("/up", { append: true });
		await a.write(Buffer.from("aaaa"));
		await b.write(Buffer.from("bbbb"));
		await a.close();
		await expect(b.close()).rejects.toThrow(/changed by another writer/);
		const resumed = await open().writer("/up", { append: true });
		expect(resumed.size).toBe(8);
		await resumed.commit();
		expect((await open().getContent("/up")).toString()).toBe("0123aaaa");
		await open().delete("/up");
	});

	it("two sessions staging the same block position are reported, not mixed", async () => {
		const rootDir = uniqueRoot("race-block");
		const blocksize = 64 * KiB;
		const open = () => driverAt(target, rootDir, { blocksize });
		const first = await open().writer("/up");
		await first.write(randomBytes(10));
		await first.close();
		const a = await open().writer("/up", { append: true });
		const b = await open().writer("/up", { append: true });
		// Both fold the same tail into block 0, each under its own session id.
		await a.write(randomBytes(blocksize));
		await b.write(randomBytes(blocksize));
		await expect(open().writer("/up", { append: true })).rejects.toThrow(
			/two writers staged block 0/,
		);
		await open().delete("/up");
	});

	it("concurrent writers on different paths, each through its own driver instance", async () => {
		const rootDir = uniqueRoot("parallel");
		const contents = Array.from({ length: 6 }, (_, i) => randomBytes(40 * KiB + i));
		await Promise.all(
			contents.map(async (content, i) => {
				const open = () => driverAt(target, rootDir, { blocksize: 64 * KiB });
				const w = await open().writer(`/p${i}`);
				await w.write(content.subarray(0, 30 * KiB));
				await w.close();
				const r = await open().writer(`/p${i}`, { append: true });
				expect(r.size).toBe(30 * KiB);
				await r.write(content.subarray(30 * KiB));
				await r.commit();
			}),
		);
		const driver = driverAt(target, rootDir);
		for (const [i, content] of contents.entries()) {
			expect((await driver.getContent(`/p${i}`)).equals(content)).toBe(true);
		}
		await driver.delete("/p0");
		for (let i = 1; i < contents.length; i++) await driver.delete(`/p${i}`);
	});
});
