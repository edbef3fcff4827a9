import { randomInt } from "node:crypto";
import type { Readable } from "node:stream";
import type { StorageDriver } from "@stowage/core";
import {
	chunksOf,
	digestStream,
	formatSize,
	MiB,
	readAll,
	seededBlocks,
	seededContent,
	streamContent,
} from "./data.js";
import { driverTests, expectBytes } from "./harness.js";
import {
	type DriverFactory,
	type DriverSuiteOptions,
	resolveOptions,
	type TestFunction,
} from "./options.js";

/** Compare a stream with `expected` as it arrives, holding no copy. Returns [bytes, mismatchAt]. */
async function compareStream(stream: Readable, expected: Uint8Array): Promise<[number, number]> {
	let pos = 0;
	let mismatch = -1;
	for await (const raw of stream) {
		const chunk = raw as Uint8Array;
		const want = expected.subarray(pos, pos + chunk.length);
		if (mismatch < 0 && Buffer.compare(chunk, want) !== 0) {
			let i = 0;
			while (i < want.length && chunk[i] === want[i]) i++;
			mismatch = pos + i;
		}
		pos += chunk.length;
	}
	return [pos, mismatch];
}

/** Wait for every task, so none is left running (or rejecting unobserved) when one fails. */
async function settleAll<T>(tasks: Promise<T>[]): Promise<T[]> {
	const results = await Promise.allSettled(tasks);
	for (const r of results) if (r.status === "rejected") throw r.reason;
	return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/** One resumable upload: `sessions` sessions of one chunk each, closed between, then commit. */
async function sessionedUpload(
	driver: StorageDriver,
	path: string,
	content: Buffer,
	chunkSize: number,
): Promise<number[]> {
	const sizes: number[] = [];
	for (let offset = 0; offset < content.length; offset += chunkSize) {
		const writer = await driver.writer(path, { append: offset > 0 });
		sizes.push(writer.size);
		await writer.write(content.subarray(offset, offset + chunkSize));
		if (offset + chunkSize >= content.length) await writer.commit();
		else await writer.close();
	}
	return sizes;
}

export function concurrencyTests(
	test: TestFunction,
	factory: DriverFactory,
	options?: DriverSuiteOptions,
): void {
	const it = driverTests(test, factory, options);
	const o = resolveOptions(options);
	const long = 10 * 60_000;

	// Distribution 35.
	it(
		`${o.concurrentReaders} concurrent readers at random offsets of a ${formatSize(o.concurrentReadersFileSize)} file`,
		async ({ expect, driver, root, options }) => {
			const path = `${root()}/file`;
			const size = options.concurrentReadersFileSize;
			const content = seededContent(path, size);
			await streamContent(driver, path, chunksOf(content, MiB));
			// Random offsets, plus the first and the last byte so the edges are always read.
			const offsets = Array.from({ length: options.concurrentReaders }, (_, i) =>
				i === 0 ? 0 : i === 1 ? size - 1 : randomInt(size),
			);
			const results = await settleAll(
				offsets.map(async (offset) =>
					compareStream(await driver.reader(path, offset), content.subarray(offset)),
				),
			);
			for (const [i, [bytes, mismatch]] of results.entries()) {
				const offset = offsets[i] as number;
				expect(bytes, `reader at ${offset}: bytes`).toBe(size - offset);
				expect(mismatch, `reader at ${offset}: first wrong byte`).toBe(-1);
			}
		},
		long,
	);

	// Distribution 36.
	it(
		`${o.concurrentWriters} concurrent writers of ${formatSize(o.concurrentWriterSize)} each`,
		async ({ expect, driver, root, options }) => {
			const base = root();
			const size = options.concurrentWriterSize;
			const paths = Array.from({ length: options.concurrentWriters }, (_, i) => `${base}/w${i}`);
			// Small blocks so the writers' calls interleave.
			const written = await settleAll(
				paths.map((path) => streamContent(driver, path, seededBlocks(path, size, 256 * 1024))),
			);
			const read = await settleAll(
				paths.map(async (path) => digestStream(await driver.reader(path))),
			);
			for (const [i, path] of paths.entries()) {
				expect(written[i]?.size, path).toBe(size);
				expect(read[i], path).toEqual(written[i]);
			}
		},
		long,
	);

	// Distribution 18/19 run side by side: sessions of two uploads must not interfere.
	for (const chunkSize of [o.appendChunkSize, 32]) {
		it(
			`two interleaved resumable uploads with ${formatSize(chunkSize)} sessions`,
			async ({ expect, driver, root }) => {
				const paths = [`${root()}/a/data`, `${root()}/b/data`];
				const contents = paths.map((p) => seededContent(p, chunkSize * 3));
				const sizes = await settleAll(
					paths.map((p, i) => sessionedUpload(driver, p, contents[i] as Buffer, chunkSize)),
				);
				for (const [i, path] of paths.entries()) {
					expect(sizes[i], `${path}: size at each session start`).toEqual([
						0,
						chunkSize,
						2 * chunkSize,
					]);
					expectBytes(
						expect,
						await readAll(await driver.reader(path)),
						contents[i] as Buffer,
						path,
					);
				}
			},
			long,
		);
	}

	// putContent replaces atomically: a concurrent reader sees one whole version, never a mix.
	it(
		"concurrent putContent to one path is atomic",
		async ({ expect, driver, root }) => {
			const path = `${root()}/file`;
			const size = MiB;
			const versions = Array.from({ length: 8 }, (_, i) => Buffer.alloc(size, i + 1));
			await driver.putContent(path, versions[0] as Buffer);
			const reads: Promise<Buffer>[] = [];
			const writes = versions.map(async (v) => {
				reads.push(driver.getContent(path));
				await driver.putContent(path, v);
			});
			await settleAll(writes);
			const seen = [...(await settleAll(reads)), await driver.getContent(path)];
			for (const content of seen) {
				expect(content.length).toBe(size);
				const first = content[0] as number;
				expect(first).toBeGreaterThan(0);
				const whole = versions[first - 1];
				expect(whole && content.equals(whole), "a read saw a mix of two versions").toBe(true);
			}
		},
		long,
	);
}
