import { describe, expect, it } from "vitest";
import { TaskPool } from "../src/gc/pool.js";

describe("TaskPool", () => {
	it("keeps at most `limit` tasks in flight while the caller produces them", async () => {
		const pool = new TaskPool(3);
		let running = 0;
		let peak = 0;
		const done: number[] = [];
		for (let i = 0; i < 20; i++) {
			await pool.add(async () => {
				running += 1;
				peak = Math.max(peak, running);
				await new Promise((r) => setTimeout(r, 1 + (i % 4)));
				running -= 1;
				done.push(i);
			});
			expect(running).toBeLessThanOrEqual(3);
		}
		await pool.drain();
		expect(peak).toBe(3);
		expect(done.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
	});

	it("rethrows the first failure from drain, and refuses more work after it", async () => {
		const pool = new TaskPool(2);
		await pool.add(async () => {
			await new Promise((r) => setTimeout(r, 5));
			throw new Error("first");
		});
		await pool.add(async () => {
			await new Promise((r) => setTimeout(r, 20));
			throw new Error("second");
		});
		await expect(pool.drain()).rejects.toThrow("first");
		await expect(pool.add(async () => undefined)).rejects.toThrow("first");
	});
});
