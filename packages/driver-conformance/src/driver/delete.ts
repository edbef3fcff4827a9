import { PathNotFoundError } from "@stowage/core";
import { randomContent, randomName } from "./data.js";
import { driverTests, expectDriverError } from "./harness.js";
import type { DriverFactory, DriverSuiteOptions, TestFunction } from "./options.js";

export function deleteTests(
	test: TestFunction,
	factory: DriverFactory,
	options?: DriverSuiteOptions,
): void {
	const it = driverTests(test, factory, options);

	// Distribution 28.
	it("delete a file", async (c) => {
		const path = `${c.root()}/file`;
		await c.driver.putContent(path, randomContent(32));
		await c.driver.delete(path);
		await expectDriverError(c, c.driver.getContent(path), PathNotFoundError, "PATH_NOT_FOUND");
		await expectDriverError(c, c.driver.stat(path), PathNotFoundError, "PATH_NOT_FOUND");
	});

	// Distribution 30.
	it("delete of a missing path gives PathNotFoundError", async (c) => {
		const path = `${c.root()}/missing`;
		const err = await expectDriverError(
			c,
			c.driver.delete(path),
			PathNotFoundError,
			"PATH_NOT_FOUND",
		);
		c.expect(err.path).toBe(path);
	});

	// Distribution 31.
	it("delete one file of a folder, then the folder", async (c) => {
		const { expect, driver } = c;
		const dir = `${c.root()}/${randomName()}`;
		const files = [`${dir}/a`, `${dir}/b`, `${dir}/sub/c`];
		for (const file of files) await driver.putContent(file, randomContent(32));

		await driver.delete(`${dir}/a`);
		await expectDriverError(c, driver.getContent(`${dir}/a`), PathNotFoundError, "PATH_NOT_FOUND");
		expect((await driver.getContent(`${dir}/b`)).length).toBe(32);
		expect((await driver.getContent(`${dir}/sub/c`)).length).toBe(32);

		await driver.delete(dir);
		for (const file of files) {
			await expectDriverError(
				c,
				driver.getContent(file),
				PathNotFoundError,
				"PATH_NOT_FOUND",
				file,
			);
		}
		await expectDriverError(c, driver.list(dir), PathNotFoundError, "PATH_NOT_FOUND", "list(dir)");
	});

	// Distribution 32: `/d/f` is not a prefix match for `/d/fsuffix`.
	it("delete only deletes true subpaths", async ({ expect, driver, root }) => {
		const base = root();
		await driver.putContent(`${base}/f`, randomContent(8));
		await driver.putContent(`${base}/fsuffix`, randomContent(8));
		await driver.putContent(`${base}/d/f`, randomContent(8));
		await driver.putContent(`${base}/dsuffix/f`, randomContent(8));

		await driver.delete(`${base}/f`);
		expect((await driver.getContent(`${base}/fsuffix`)).length).toBe(8);
		await driver.delete(`${base}/d`);
		expect((await driver.getContent(`${base}/dsuffix/f`)).length).toBe(8);
		expect(await driver.list(base)).toEqual([`${base}/dsuffix`, `${base}/fsuffix`]);
	});
}
