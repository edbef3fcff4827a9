import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import {
	checkedDriver,
	InvalidOffsetError,
	InvalidPathError,
	OperationAbortedError,
	PathNotFoundError,
	type StorageDriver,
	StorageDriverError,
	WriterClosedError,
} from "../src/index.js";

/**
 * A recording backend: what checkedDriver must guarantee is that bad calls never reach it, so
 * the test observes dispatch, not storage.
 */
function recording(overrides: Partial<StorageDriver> = {}) {
	const calls: string[] = [];
	const record =
		(name: string) =>
		async (..._args: unknown[]): Promise<never> => {
			calls.push(name);
			throw new Error(`${name} reached the backend`);
		};
	const inner = {
		name: "rec",
		capabilities: { redirect: false, serverSideMove: true, minPartSize: 0, inProcess: true },
		getContent: record("getContent"),
		putContent: record("putContent"),
		reader: record("reader"),
		writer: record("writer"),
		stat: record("stat"),
		list: record("list"),
		move: record("move"),
		delete: record("delete"),
		redirectURL: record("redirectURL"),
		walk: record("walk"),
		...overrides,
	} as StorageDriver;
	return { driver: checkedDriver(inner), calls };
}

describe("checkedDriver", () => {
	it("refuses invalid paths before the backend sees them, naming the driver", async () => {
		const { driver, calls } = recording();
		for (const bad of ["", "a", "/a/../b", "/a/"]) {
			const err = await driver.getContent(bad).catch((e: unknown) => e);
			expect(err).toBeInstanceOf(InvalidPathError);
			expect((err as InvalidPathError).message).toContain("rec");
			await expect(driver.move("/ok", bad)).rejects.toBeInstanceOf(InvalidPathError);
		}
		await expect(driver.putContent("/", Buffer.alloc(0))).rejects.toBeInstanceOf(InvalidPathError);
		expect(calls).toEqual([]);
	});

	it("refuses negative and fractional offsets", async () => {
		const { driver, calls } = recording();
		for (const offset of [-1, 1.5, Number.NaN]) {
			const err = await driver.reader("/a", offset).catch((e: unknown) => e);
			expect(err).toBeInstanceOf(InvalidOffsetError);
		}
		expect(calls).toEqual([]);
	});

	it("checks the signal before dispatch", async () => {
		const { driver, calls } = recording();
		const signal = AbortSignal.abort();
		await expect(driver.stat("/a", { signal })).rejects.toBeInstanceOf(OperationAbortedError);
		expect(calls).toEqual([]);
	});

	it("wraps unknown backend errors with a cause and keeps typed ones", async () => {
		const boom = new Error("socket hang up");
		const { driver } = recording({
			getContent: async () => {
				throw boom;
			},
			stat: async (path) => {
				throw new PathNotFoundError("rec", path);
			},
		});
		const err = (await driver.getContent("/a").catch((e: unknown) => e)) as StorageDriverError;
		expect(err).toBeInstanceOf(StorageDriverError);
		expect(err.cause).toBe(boom);
		expect(err.code).toBe("DRIVER_ERROR");
		await expect(driver.stat("/a")).rejects.toBeInstanceOf(PathNotFoundError);
	});

	it("lists an absent root as empty and passes walk callback errors through", async () => {
		const mine = new Error("mine");
		const { driver } = recording({
			list: async (path) => {
				throw new PathNotFoundError("rec", path);
			},
			walk: async (_path, fn) => {
				await fn({ path: "/a", size: 0, modTime: new Date(), isDir: false });
			},
		});
		expect(await driver.list("/")).toEqual([]);
		await expect(driver.list("/x")).rejects.toBeInstanceOf(PathNotFoundError);
		await expect(
			driver.walk("/", () => {
				throw mine;
			}),
		).rejects.toBe(mine);
	});

	it("refuses writer use after close, commit or cancel", async () => {
		const writes: number[] = [];
		const { driver } = recording({
			writer: async () => ({
				size: 0,
				write: async (c: Uint8Array) => {
					writes.push(c.length);
				},
				close: async () => {},
				commit: async () => {},
				cancel: async () => {},
			}),
			reader: async () => Readable.from([]),
		});
		for (const end of ["close", "commit", "cancel"] as const) {
			const w = await driver.writer("/a");
			await w.write(new Uint8Array(3));
			await w[end]();
			await expect(w.write(new Uint8Array(1))).rejects.toBeInstanceOf(WriterClosedError);
			await expect(w.commit()).rejects.toBeInstanceOf(WriterClosedError);
		}
		expect(writes).toEqual([3, 3, 3]);
	});
});
