import { PathNotFoundError } from "@stowage/core";
import { delay, randomContent } from "./data.js";
import { driverTests, expectDriverError } from "./harness.js";
import type { DriverFactory, DriverSuiteOptions, TestFunction } from "./options.js";

/** Backends keep their own clocks: allow this much skew between them and this process. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;

export function statTests(
	test: TestFunction,
	factory: DriverFactory,
	options?: DriverSuiteOptions,
): void {
	const it = driverTests(test, factory, options);

	// Distribution 33.
	it("stat: missing path, file, later rewrite, directory, root", async (c) => {
		const { expect, driver } = c;
		const dir = `${c.root()}/dir`;
		const path = `${dir}/file`;

		const err = await expectDriverError(c, driver.stat(path), PathNotFoundError, "PATH_NOT_FOUND");
		expect(err.path).toBe(path);

		const before = Date.now();
		await driver.putContent(path, randomContent(4096));
		const fi = await driver.stat(path);
		expect(fi.path).toBe(path);
		expect(fi.size).toBe(4096);
		expect(fi.isDir).toBe(false);
		expect(fi.modTime).toBeInstanceOf(Date);
		expect(Number.isNaN(fi.modTime.getTime()), "modTime is a valid date").toBe(false);
		expect(Math.abs(fi.modTime.getTime() - before)).toBeLessThan(CLOCK_SKEW_MS);

		// The modification time must move forward when the content is replaced.
		await delay(c.options.modTimeDelayMs);
		await driver.putContent(path, randomContent(2048));
		const rewritten = await driver.stat(path);
		expect(rewritten.size).toBe(2048);
		expect(rewritten.modTime.getTime(), "modTime after a rewrite").toBeGreaterThan(
			fi.modTime.getTime(),
		);

		const di = await driver.stat(dir);
		expect(di.path).toBe(dir);
		expect(di.size).toBe(0);
		expect(di.isDir).toBe(true);

		// The storage health check stats the root: either it exists or it is PathNotFound.
		try {
			const ri = await driver.stat("/");
			expect(ri.isDir).toBe(true);
		} catch (error) {
			expect(error).toBeInstanceOf(PathNotFoundError);
		}
	});

	it("stat reports the size of a streamed file after commit", async ({ expect, driver, root }) => {
		const path = `${root()}/file`;
		const writer = await driver.writer(path);
		await writer.write(randomContent(1000));
		await writer.write(randomContent(24));
		await writer.commit();
		const fi = await driver.stat(path);
		expect(fi).toMatchObject({ path, size: 1024, isDir: false });
	});
}
