import { describe, expect, it } from "vitest";
import { guardUnhandled, KiB, leftovers, pattern, readAll, useStrictServer } from "./support.js";

// 1 KiB parts (the server's minimum lowered to match) make a thousand-part upload cheap.
const s = useStrictServer({ minPartSize: KiB, maxListParts: 1000, maxPartNumber: 10_000 });
guardUnhandled();

const small = { chunksize: KiB, minchunksize: KiB };

describe("resume offsets come from every ListParts page", () => {
	it("with 3-part pages, a resumed writer sees all 20 parts and the tail", async () => {
		s.server.limits.maxListParts = 3;
		try {
			const path = "/big/data";
			const data = pattern(20 * KiB + 500 + 30 * KiB + 7);
			const first = await s.driver(small).writer(path);
			await first.write(data.subarray(0, 20 * KiB + 500));
			await first.close();
			s.server.stats.reset();
			const second = await s.driver(small).writer(path, { append: true });
			expect(second.size).toBe(20 * KiB + 500);
			expect(s.server.stats.operations.ListParts).toBe(7);
			await second.write(data.subarray(20 * KiB + 500));
			await second.commit();
			expect(second.size).toBe(data.length);
			expect((await readAll(await s.driver().reader(path))).equals(data)).toBe(true);
		} finally {
			s.server.limits.maxListParts = 1000;
		}
	});

	it("above 1,000 parts (Distribution's 10 GB at 10 MiB parts) the offset is still right", async () => {
		// ListParts returns at most 1,000 parts per page: Distribution #2814 resumed such uploads
		// at the wrong offset. 1,050 parts of 1 KiB cross that boundary.
		const path = "/huge/data";
		const parts = 1050;
		const data = pattern(parts * KiB + 100, 3);
		const w = await s.driver(small).writer(path);
		for (let i = 0; i < parts; i += 150)
			await w.write(data.subarray(i * KiB, Math.min(parts, i + 150) * KiB));
		await w.write(data.subarray(parts * KiB, parts * KiB + 40));
		await w.close();
		s.server.stats.reset();
		const resumed = await s.driver(small).writer(path, { append: true });
		expect(resumed.size).toBe(parts * KiB + 40);
		expect(s.server.stats.operations.ListParts).toBe(2);
		await resumed.write(data.subarray(parts * KiB + 40));
		await resumed.commit();
		const stat = await s.driver().stat(path);
		expect(stat.size).toBe(data.length);
		expect((await readAll(await s.driver().reader(path))).equals(data)).toBe(true);
	});

	it("the part limit is an explicit error, not a corrupt upload", async () => {
		const path = "/limited/data";
		const w = await s.driver({ ...small, maxparts: 3 }).writer(path);
		await w.write(pattern(3 * KiB));
		await expect(w.write(pattern(KiB))).rejects.toThrow(/more than 3 parts/);
		await w.cancel();
		expect(leftovers(s.server, s.options().rootdirectory as string).uploads).toEqual([]);
	});

	it("a commit that failed after uploading its last part resumes at the right offset", async () => {
		const path = "/failed-commit/data";
		const data = pattern(5 * KiB + 300, 5);
		const w = await s.driver({ ...small, maxattempts: 1 }).writer(path);
		await w.write(data.subarray(0, 3 * KiB + 200));
		await w.close();
		const again = await s.driver({ ...small, maxattempts: 1 }).writer(path, { append: true });
		await again.write(data.subarray(3 * KiB + 200, 4 * KiB + 100));
		// The short last part is uploaded, then Complete fails for good.
		s.server.faults.fail("CompleteMultipartUpload", 1, 500);
		await expect(again.commit()).rejects.toThrow(/InternalError|Injected/);
		const resumed = await s.driver(small).writer(path, { append: true });
		// Durable: 4 full parts (the tail folded in at 3 KiB + 200 made part 4); the bytes of the
		// failed commit's session beyond them were never acknowledged.
		expect(resumed.size).toBe(4 * KiB);
		await resumed.write(data.subarray(4 * KiB));
		await resumed.commit();
		expect((await readAll(await s.driver().reader(path))).equals(data)).toBe(true);
	});
});

describe("stores without ListParts (s3rver)", () => {
	const noListParts = () =>
		s.server.faults.inject({
			operation: "ListParts",
			status: 501,
			code: "NotImplemented",
			times: Number.POSITIVE_INFINITY,
		});

	it("parts are recorded by markers and a resume on another instance reads them", async () => {
		noListParts();
		const path = "/nolist/data";
		const data = pattern(5 * KiB + 123, 11);
		const first = await s.driver(small).writer(path);
		await first.write(data.subarray(0, 2 * KiB + 50));
		await first.close();
		const second = await s.driver(small).writer(path, { append: true });
		expect(second.size).toBe(2 * KiB + 50);
		await second.write(data.subarray(2 * KiB + 50, 4 * KiB));
		await second.close();
		const third = await s.driver(small).writer(path, { append: true });
		expect(third.size).toBe(4 * KiB);
		await third.write(data.subarray(4 * KiB));
		await third.commit();
		expect((await readAll(await s.driver().reader(path))).equals(data)).toBe(true);
		expect(leftovers(s.server, s.options().rootdirectory as string).objects).toEqual([
			`${s.options().rootdirectory}/nolist/data`,
		]);
	});

	it("a part whose marker was lost is uploaded again, not counted", async () => {
		noListParts();
		const path = "/nolist/lost";
		const data = pattern(3 * KiB, 12);
		const w = await s.driver({ ...small, maxattempts: 1 }).writer(path);
		await w.write(data.subarray(0, KiB));
		s.server.faults.inject({ operation: "PutObject", status: 500, key: /\/part\.00002\./ });
		await expect(w.write(data.subarray(KiB, 2 * KiB))).rejects.toThrow();
		const resumed = await s.driver(small).writer(path, { append: true });
		expect(resumed.size).toBe(KiB);
		await resumed.write(data.subarray(KiB));
		await resumed.commit();
		expect((await readAll(await s.driver().reader(path))).equals(data)).toBe(true);
	});
});
