import { PathNotFoundError } from "@stowage/core";
import { KiB, randomContent, seededContent } from "./data.js";
import { driverTests, expectBytes, expectDriverError } from "./harness.js";
import type { DriverFactory, DriverSuiteOptions, TestFunction } from "./options.js";

export function moveTests(
	test: TestFunction,
	factory: DriverFactory,
	options?: DriverSuiteOptions,
): void {
	const it = driverTests(test, factory, options);

	// Distribution 24: source and destination under different roots, as an upload moves to blobs.
	it("move: destination has the content, source is gone", async (c) => {
		const { expect, driver } = c;
		const source = `${c.root()}/uploads/data`;
		const dest = `${c.root()}/blobs/ab/data`;
		const content = seededContent(source, 32 * KiB);
		await driver.putContent(source, content);
		await driver.move(source, dest);
		expectBytes(expect, await driver.getContent(dest), content);
		expect((await driver.stat(dest)).size).toBe(content.length);
		await expectDriverError(c, driver.getContent(source), PathNotFoundError, "PATH_NOT_FOUND");
	});

	// Distribution 25.
	it("move overwrites the destination", async (c) => {
		const { expect, driver } = c;
		const source = `${c.root()}/source`;
		const dest = `${c.root()}/dest`;
		const content = randomContent(32);
		await driver.putContent(source, content);
		await driver.putContent(dest, randomContent(64));
		await driver.move(source, dest);
		expectBytes(expect, await driver.getContent(dest), content);
		await expectDriverError(c, driver.getContent(source), PathNotFoundError, "PATH_NOT_FOUND");
	});

	// Distribution 26.
	it("move of a missing source gives PathNotFoundError and leaves the destination", async (c) => {
		const { expect, driver } = c;
		const source = `${c.root()}/missing`;
		const dest = `${c.root()}/dest`;
		const content = randomContent(32);
		await driver.putContent(dest, content);
		const err = await expectDriverError(
			c,
			driver.move(source, dest),
			PathNotFoundError,
			"PATH_NOT_FOUND",
		);
		expect(err.path).toBe(source);
		expectBytes(expect, await driver.getContent(dest), content);
	});

	// Distribution 27: moving a path below a file (which cannot exist) fails. Object stores
	// allow a key and a "directory" of the same name, so only the missing source is portable.
	it("move of a path below a file fails", async ({ expect, driver, root }) => {
		const base = root();
		const content = randomContent(32);
		await driver.putContent(`${base}/notadir`, content);
		await expect(driver.move(`${base}/notadir/foo`, `${base}/notadir/bar`)).rejects.toThrow();
		expectBytes(expect, await driver.getContent(`${base}/notadir`), content);
	});

	it("move of a streamed file keeps it intact", async ({ expect, driver, root }) => {
		const source = `${root()}/upload`;
		const dest = `${root()}/blob`;
		const content = seededContent(source, 300 * KiB);
		const writer = await driver.writer(source);
		await writer.write(content.subarray(0, 100 * KiB));
		await writer.close();
		const resumed = await driver.writer(source, { append: true });
		await resumed.write(content.subarray(100 * KiB));
		await resumed.commit();
		await driver.move(source, dest);
		expectBytes(expect, await driver.getContent(dest), content);
	});
}
