import { PathNotFoundError } from "@stowage/core";
import { KiB, MiB, randomContent } from "./data.js";
import { driverTests, expectBytes, expectDriverError } from "./harness.js";
import type { DriverFactory, DriverSuiteOptions, TestFunction } from "./options.js";

/** Distribution's payloads for cases 4–8 (and 11–15 through streams). */
export const SMALL_PAYLOADS: readonly [string, () => Uint8Array][] = [
	["a single byte", () => Buffer.from("a")],
	["UTF-8 bytes", () => Buffer.from([0xc3, 0x9f])],
	["32 random bytes", () => randomContent(32)],
	["1 MiB", () => randomContent(MiB)],
	// A plain Uint8Array (not a Buffer) of bytes that are invalid UTF-8.
	["non-UTF-8 bytes", () => new Uint8Array([0x80, 0x80, 0x80, 0x80])],
];

export function readWriteTests(
	test: TestFunction,
	factory: DriverFactory,
	options?: DriverSuiteOptions,
): void {
	const it = driverTests(test, factory, options);

	// Distribution 4–8.
	for (const [label, make] of SMALL_PAYLOADS) {
		it(`putContent/getContent round-trip: ${label}`, async ({ expect, driver, root }) => {
			const path = `${root()}/dir/file`;
			const content = make();
			await driver.putContent(path, content);
			const got = await driver.getContent(path);
			expect(Buffer.isBuffer(got), "getContent returns a Buffer").toBe(true);
			expectBytes(expect, got, content);
		});
	}

	it("putContent/getContent round-trip: zero bytes", async ({ expect, driver, root }) => {
		const path = `${root()}/empty`;
		await driver.putContent(path, new Uint8Array(0));
		expect((await driver.getContent(path)).length).toBe(0);
		expect((await driver.stat(path)).size).toBe(0);
	});

	// Distribution 9: a shorter put truncates rather than overwriting a prefix.
	it("putContent truncates: 1 MiB then 1 KiB reads back 1 KiB", async ({
		expect,
		driver,
		root,
	}) => {
		const path = `${root()}/file`;
		await driver.putContent(path, randomContent(MiB));
		const small = randomContent(KiB);
		await driver.putContent(path, small);
		expectBytes(expect, await driver.getContent(path), small);
		expect((await driver.stat(path)).size).toBe(KiB);
	});

	// Distribution 34.
	it("putContent multiple times: 4096 B then 2048 B", async ({ expect, driver, root }) => {
		const path = `${root()}/file`;
		await driver.putContent(path, randomContent(4096));
		const second = randomContent(2048);
		await driver.putContent(path, second);
		expectBytes(expect, await driver.getContent(path), second);
	});

	// Distribution 10.
	it("getContent of a missing path gives PathNotFoundError", async (c) => {
		const path = `${c.root()}/missing`;
		const err = await expectDriverError(
			c,
			c.driver.getContent(path),
			PathNotFoundError,
			"PATH_NOT_FOUND",
		);
		c.expect(err.path).toBe(path);
	});

	// Stored content must not alias the caller's buffers in either direction.
	it("stored content does not alias putContent input, getContent or reader output", async ({
		expect,
		driver,
		root,
	}) => {
		const path = `${root()}/file`;
		const content = randomContent(64);
		const expected = Buffer.from(content);
		await driver.putContent(path, content);
		content.fill(0);
		const first = await driver.getContent(path);
		expectBytes(expect, first, expected, "after mutating the input");
		first.fill(1);
		const second = await driver.getContent(path);
		expectBytes(expect, second, expected, "after mutating a result");
		for await (const chunk of await driver.reader(path)) (chunk as Uint8Array).fill(2);
		expectBytes(expect, await driver.getContent(path), expected, "after mutating reader chunks");
	});
}
