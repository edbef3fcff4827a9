import { describe, expect, it } from "vitest";
import {
	guardUnhandled,
	KiB,
	leftovers,
	pattern,
	readAll,
	session,
	useStrictServer,
} from "./support.js";

const s = useStrictServer({ minPartSize: KiB });
guardUnhandled();

const small = { chunksize: KiB, minchunksize: KiB };

describe("appending to committed content", () => {
	it("a writer reopened on a committed file resumes at its size; commit without writes keeps it", async () => {
		const d = s.driver(small);
		const data = pattern(2 * KiB + 300);
		await session(d, "/c/data", data, { append: false, end: "commit" });
		s.server.stats.reset();
		const again = await s.driver(small).writer("/c/data", { append: true });
		expect(again.size).toBe(data.length);
		await again.close();
		const retry = await s.driver(small).writer("/c/data", { append: true });
		expect(retry.size).toBe(data.length);
		await retry.commit();
		expect(retry.size).toBe(data.length);
		// Nothing was rewritten: a retried commit costs a listing and a HEAD, no data.
		expect(s.server.stats.bytesIn + s.server.stats.bytesCopied).toBe(0);
		expect((await d.getContent("/c/data")).equals(data)).toBe(true);
	});

	it("appended bytes follow the committed ones; whole parts are copied inside S3", async () => {
		const d = s.driver(small);
		const first = pattern(2 * KiB + 300, 2);
		const more = pattern(1500, 3);
		await session(d, "/c/more", first, { append: false, end: "commit" });
		s.server.stats.reset();
		const w = await s.driver(small).writer("/c/more", { append: true });
		await w.write(more.subarray(0, 700));
		await w.close();
		expect(s.server.stats.operations.UploadPartCopy).toBe(2);
		const resumed = await s.driver(small).writer("/c/more", { append: true });
		expect(resumed.size).toBe(first.length + 700);
		await resumed.write(more.subarray(700));
		await resumed.commit();
		expect((await readAll(await d.reader("/c/more"))).equals(Buffer.concat([first, more]))).toBe(
			true,
		);
		await d.delete("/c");
		expect(leftovers(s.server, s.options().rootdirectory as string)).toEqual({
			objects: [],
			uploads: [],
		});
	});

	it("a small committed file becomes the tail by a server-side copy", async () => {
		const d = s.driver(small);
		await session(d, "/c/small", pattern(100, 4), { append: false, end: "commit" });
		s.server.stats.reset();
		await session(s.driver(small), "/c/small", pattern(50, 5), { append: true, end: "commit" });
		expect(s.server.stats.operations.CopyObject).toBe(1);
		expect(
			(await d.getContent("/c/small")).equals(Buffer.concat([pattern(100, 4), pattern(50, 5)])),
		).toBe(true);
	});
});
