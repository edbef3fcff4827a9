import { PathNotFoundError, type StorageDriver } from "@stowage/core";
import { formatSize, randomContent, readAll, seededContent } from "./data.js";
import { type DriverTestContext, driverTests, expectBytes } from "./harness.js";
import {
	type DriverFactory,
	type DriverSuiteOptions,
	resolveOptions,
	type TestFunction,
} from "./options.js";

/**
 * Distribution 18/19: three sessions on one path. Each of the first two writes a chunk and closes
 * (so the upload could resume in another process); the third reopens with append and commits.
 */
async function appendAcrossSessions(c: DriverTestContext, chunkSize: number): Promise<void> {
	const { expect, driver } = c;
	const path = `${c.root()}/upload/data`;
	const content = seededContent(path, chunkSize * 3);
	const chunk = (i: number) => content.subarray(i * chunkSize, (i + 1) * chunkSize);

	const first = await driver.writer(path);
	await first.write(chunk(0));
	expect(first.size).toBe(chunkSize);
	await first.close();
	expect(first.size, "size after close").toBe(chunkSize);

	const second = await driver.writer(path, { append: true });
	expect(second.size, "an append session resumes at the stored size").toBe(chunkSize);
	await second.write(chunk(1));
	expect(second.size).toBe(2 * chunkSize);
	await second.close();

	const third = await driver.writer(path, { append: true });
	expect(third.size).toBe(2 * chunkSize);
	await third.write(chunk(2));
	expect(third.size).toBe(3 * chunkSize);
	await third.commit();

	expect((await driver.stat(path)).size).toBe(content.length);
	expectBytes(expect, await readAll(await driver.reader(path)), content);
}

/** Distribution 21/22: an empty committed file accepts an append session. */
async function appendToEmpty(c: DriverTestContext, makeEmpty: (path: string) => Promise<void>) {
	const { expect, driver } = c;
	const path = `${c.root()}/file`;
	await makeEmpty(path);
	expect((await readAll(await driver.reader(path))).length, "empty file reads empty").toBe(0);
	expect((await driver.stat(path)).size).toBe(0);

	const writer = await driver.writer(path, { append: true });
	expect(writer.size).toBe(0);
	const content = randomContent(32);
	await writer.write(content);
	await writer.commit();
	expect(writer.size).toBe(32);
	expect((await driver.stat(path)).size).toBe(32);
	expectBytes(expect, await readAll(await driver.reader(path)), content);
}

async function emptyByWriter(driver: StorageDriver, path: string): Promise<void> {
	const writer = await driver.writer(path);
	await writer.commit();
}

export function appendTests(
	test: TestFunction,
	factory: DriverFactory,
	options?: DriverSuiteOptions,
): void {
	const it = driverTests(test, factory, options);
	const chunkSize = resolveOptions(options).appendChunkSize;

	it(
		`append across sessions with ${formatSize(chunkSize)} chunks`,
		(c) => appendAcrossSessions(c, c.options.appendChunkSize),
		120_000,
	);
	it("append across sessions with 32-byte chunks", (c) => appendAcrossSessions(c, 32));

	it("zero-byte writer commit, then append", (c) =>
		appendToEmpty(c, (path) => emptyByWriter(c.driver, path)));
	it("zero-byte putContent, then append", (c) =>
		appendToEmpty(c, (path) => c.driver.putContent(path, new Uint8Array(0))));

	// Not pinned by Distribution (fs creates the file, S3 has no upload to find): either is fine,
	// but an error must be the typed one and a writer must start at 0.
	it("append on a missing path gives PathNotFoundError or an empty writer", async (c) => {
		const path = `${c.root()}/missing`;
		let writer: Awaited<ReturnType<StorageDriver["writer"]>> | undefined;
		try {
			writer = await c.driver.writer(path, { append: true });
		} catch (err) {
			c.expect(err).toBeInstanceOf(PathNotFoundError);
			c.expect((err as PathNotFoundError).message).toContain(c.driver.name);
			return;
		}
		c.expect(writer.size).toBe(0);
		await writer.cancel();
	});
}
