import { PathNotFoundError } from "@stowage/core";
import { randomContent, randomName } from "./data.js";
import { driverTests, expectDriverError } from "./harness.js";
import type { DriverFactory, DriverSuiteOptions, TestFunction } from "./options.js";

/** JS string order, which is byte order for the ASCII paths the path rule allows. */
function sorted(paths: string[]): string[] {
	return [...paths].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export function listTests(
	test: TestFunction,
	factory: DriverFactory,
	options?: DriverSuiteOptions,
): void {
	const it = driverTests(test, factory, options);

	// Distribution 23.
	it("list: missing path, root, and 50 sorted children", async (c) => {
		const { expect, driver } = c;
		const root = c.root();
		const parent = `${root}/${randomName()}`;

		const err = await expectDriverError(
			c,
			driver.list(root),
			PathNotFoundError,
			"PATH_NOT_FOUND",
			"list(missing)",
		);
		expect(err.path).toBe(root);

		const children: string[] = [];
		for (let i = 0; i < 50; i++) {
			const child = `${parent}/${randomName()}`;
			children.push(child);
			await driver.putContent(child, randomContent(32));
		}

		expect(await driver.list("/")).toEqual([root]);
		expect(await driver.list(root)).toEqual([parent]);
		// The contract says sorted: compare without sorting the result.
		expect(await driver.list(parent)).toEqual(sorted(children));
	});

	it("list returns files and directories, sorted in byte order", async ({
		expect,
		driver,
		root,
	}) => {
		const base = root();
		// Names whose byte order differs from a case-insensitive or natural order.
		const names = ["b", "B", "a-", "a.", "a_", "a0", "a10", "a9", "_z", ".x", "-y", "Z"];
		for (const [i, name] of names.entries()) {
			// Every other entry is a directory, to check both kinds appear.
			const path = i % 2 === 0 ? `${base}/${name}` : `${base}/${name}/inner`;
			await driver.putContent(path, randomContent(8));
		}
		expect(await driver.list(base)).toEqual(sorted(names.map((n) => `${base}/${n}`)));
	});

	it("list of a directory excludes siblings sharing its prefix", async ({
		expect,
		driver,
		root,
	}) => {
		const base = root();
		await driver.putContent(`${base}/d/f`, randomContent(8));
		await driver.putContent(`${base}/dsuffix/f`, randomContent(8));
		await driver.putContent(`${base}/d-x`, randomContent(8));
		expect(await driver.list(`${base}/d`)).toEqual([`${base}/d/f`]);
		expect(await driver.list(base)).toEqual([`${base}/d`, `${base}/d-x`, `${base}/dsuffix`]);
	});
}
