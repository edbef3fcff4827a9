import {
	InvalidOffsetError,
	PathNotFoundError,
	type StorageDriver,
	WriterClosedError,
} from "@stowage/core";
import { chunksOf, randomContent, readAll, streamContent } from "./data.js";
import { driverTests, expectBytes, expectDriverError } from "./harness.js";
import type { DriverFactory, DriverSuiteOptions, TestFunction } from "./options.js";
import { SMALL_PAYLOADS } from "./read-write.js";

async function readFrom(driver: StorageDriver, path: string, offset?: number): Promise<Buffer> {
	return readAll(await driver.reader(path, offset));
}

export function streamTests(
	test: TestFunction,
	factory: DriverFactory,
	options?: DriverSuiteOptions,
): void {
	const it = driverTests(test, factory, options);

	// Distribution 11–15: the same payloads as 4–8, through writer → commit → reader.
	for (const [label, make] of SMALL_PAYLOADS) {
		it(`writer/reader round-trip: ${label}`, async ({ expect, driver, root }) => {
			const path = `${root()}/dir/file`;
			const content = make();
			const writer = await driver.writer(path);
			expect(writer.size).toBe(0);
			// Several writes when there is enough content, so chunk joins are exercised.
			for (const chunk of chunksOf(content, Math.max(1, Math.ceil(content.length / 3)))) {
				await writer.write(chunk);
			}
			expect(writer.size).toBe(content.length);
			await writer.commit();
			expectBytes(expect, await readFrom(driver, path), content);
			expectBytes(expect, await driver.getContent(path), content, "getContent");
			expect((await driver.stat(path)).size).toBe(content.length);
		});
	}

	// Distribution 17.
	it("reader with offset: tails, negative, at EOF and past EOF", async (c) => {
		const { expect, driver } = c;
		const path = `${c.root()}/file`;
		const content = randomContent(96);
		await driver.putContent(path, content);
		for (const offset of [0, 32, 64, 95]) {
			expectBytes(
				expect,
				await readFrom(driver, path, offset),
				content.subarray(offset),
				`offset ${offset}`,
			);
		}
		expectBytes(expect, await readFrom(driver, path), content, "default offset");
		const err = await expectDriverError(
			c,
			driver.reader(path, -1),
			InvalidOffsetError,
			"INVALID_OFFSET",
		);
		expect(err.offset).toBe(-1);
		expect(err.path).toBe(path);
		// At and past the end: an empty stream, not an error.
		for (const offset of [96, 97, 4096]) {
			expect((await readFrom(driver, path, offset)).length, `offset ${offset}`).toBe(0);
		}
	});

	// Distribution 20.
	it("reader of a missing path gives PathNotFoundError", async (c) => {
		const path = `${c.root()}/missing`;
		for (const offset of [0, 64]) {
			const err = await expectDriverError(
				c,
				c.driver.reader(path, offset),
				PathNotFoundError,
				"PATH_NOT_FOUND",
				`reader(missing, ${offset})`,
			);
			c.expect(err.path).toBe(path);
		}
	});

	it("writer without append replaces a committed file", async ({ expect, driver, root }) => {
		const path = `${root()}/file`;
		await streamContent(driver, path, [randomContent(64)]);
		const writer = await driver.writer(path);
		expect(writer.size, "a new session starts at 0").toBe(0);
		const second = randomContent(32);
		await writer.write(second);
		await writer.commit();
		expectBytes(expect, await driver.getContent(path), second);
	});

	it("writer rejects calls after commit, close or cancel with WriterClosedError", async (c) => {
		const { driver } = c;
		const base = c.root();
		const ended = ["commit", "close", "cancel"] as const;
		for (const end of ended) {
			const path = `${base}/${end}`;
			const writer = await driver.writer(path);
			await writer.write(randomContent(16));
			await writer[end]();
			for (const next of ["write", "close", "commit", "cancel"] as const) {
				const call = next === "write" ? writer.write(randomContent(1)) : writer[next]();
				const err = await expectDriverError(
					c,
					call,
					WriterClosedError,
					"WRITER_CLOSED",
					`${next} after ${end}`,
				);
				c.expect(err.path).toBe(path);
			}
		}
		// The committed file is intact despite the rejected calls.
		c.expect((await driver.stat(`${base}/commit`)).size).toBe(16);
	});

	it("writer.cancel discards this and earlier sessions", async (c) => {
		const { driver } = c;
		const path = `${c.root()}/file`;
		const first = await driver.writer(path);
		await first.write(randomContent(32));
		await first.close();
		const second = await driver.writer(path, { append: true });
		c.expect(second.size).toBe(32);
		await second.write(randomContent(32));
		await second.cancel();
		await expectDriverError(c, driver.getContent(path), PathNotFoundError, "PATH_NOT_FOUND");
		await expectDriverError(c, driver.reader(path), PathNotFoundError, "PATH_NOT_FOUND");
	});

	it("committed content does not alias the written chunks", async ({ expect, driver, root }) => {
		const path = `${root()}/file`;
		const chunk = randomContent(64);
		const expected = Buffer.from(chunk);
		const writer = await driver.writer(path);
		await writer.write(chunk);
		await writer.commit();
		chunk.fill(0);
		expectBytes(expect, await driver.getContent(path), expected);
	});
}
