import { DriverError, isFillable, OperationAbortedError } from "@stowage/core";
import { randomContent } from "./data.js";
import { driverTests, expectBytes } from "./harness.js";
import type { DriverFactory, DriverSuiteOptions, TestFunction } from "./options.js";

/** Fill fresh buffers of `piece` bytes until `fill` reports the end. */
async function fillAll(
	stream: { fill(target: Uint8Array): Promise<number> },
	piece: number,
): Promise<Buffer> {
	const parts: Buffer[] = [];
	for (;;) {
		const target = Buffer.alloc(piece);
		const n = await stream.fill(target);
		if (n === 0) return Buffer.concat(parts);
		parts.push(target.subarray(0, n));
	}
}

/**
 * `fill`, the reader's copy into buffers the consumer owns (see FillableReadable). A driver
 * declares whether its readers offer it (`fillableReader`), and the declaration is checked
 * both ways: a server streams differently depending on it.
 */
export function fillTests(
	test: TestFunction,
	factory: DriverFactory,
	options?: DriverSuiteOptions,
): void {
	const it = driverTests(test, factory, options);

	if (!options?.fillableReader) {
		it("reader: a plain stream, as declared (no fill)", async ({ expect, driver, root }) => {
			const path = `${root()}/file`;
			await driver.putContent(path, randomContent(16));
			const stream = await driver.reader(path);
			expect(isFillable(stream), "declare fillableReader: true in the suite options").toBe(false);
			stream.destroy();
		});
		return;
	}

	it("reader fill: the bytes from the offset, piece by piece, then 0", async (c) => {
		const { expect, driver } = c;
		const path = `${c.root()}/file`;
		const content = randomContent(300 * 1024 + 7);
		await driver.putContent(path, content);
		for (const [offset, piece] of [
			[0, 64 * 1024],
			[1000, 4096],
			[1000, 100_000],
			[content.length - 1, 16],
			[content.length, 16],
		] as const) {
			const stream = await driver.reader(path, offset);
			expect(isFillable(stream)).toBe(true);
			if (!isFillable(stream)) return;
			const got = await fillAll(stream, piece);
			expectBytes(expect, got, content.subarray(offset), `offset ${offset}, pieces of ${piece}`);
			expect(await stream.fill(Buffer.alloc(8)), "after the end").toBe(0);
			stream.destroy();
		}
	});

	it("reader fill: fails with a DriverError once destroyed, even mid-read", async (c) => {
		const { expect, driver } = c;
		const path = `${c.root()}/file`;
		await driver.putContent(path, randomContent(256 * 1024));
		const stream = await driver.reader(path);
		if (!isFillable(stream)) throw new Error("declared fillable, but the reader is not");
		const first = stream.fill(Buffer.alloc(128 * 1024));
		stream.destroy();
		// The read already under way may finish or fail; either way it must settle.
		await first.catch(() => undefined);
		await new Promise((resolve) => stream.once("close", resolve));
		await expect(stream.fill(Buffer.alloc(16))).rejects.toBeInstanceOf(DriverError);
	});

	it("reader fill: an aborted signal fails the next fill", async (c) => {
		const { expect, driver } = c;
		const path = `${c.root()}/file`;
		await driver.putContent(path, randomContent(4096));
		const controller = new AbortController();
		const stream = await driver.reader(path, 0, { signal: controller.signal });
		if (!isFillable(stream)) throw new Error("declared fillable, but the reader is not");
		const errors: unknown[] = [];
		stream.on("error", (err) => errors.push(err));
		expect(await stream.fill(Buffer.alloc(1024))).toBe(1024);
		controller.abort(new Error("client went away"));
		await expect(stream.fill(Buffer.alloc(1024))).rejects.toBeInstanceOf(OperationAbortedError);
		await new Promise((resolve) => stream.once("close", resolve));
		expect(errors.length, "the abort is also the stream's 'error'").toBe(1);
	});
}
