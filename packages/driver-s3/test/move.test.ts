import { PathNotFoundError } from "@stowage/core";
import { describe, expect, it } from "vitest";
import { guardUnhandled, leftovers, MiB, pattern, readAll, useStrictServer } from "./support.js";

// The server refuses CopyObject above 6 MiB here, as S3 does above 5 GiB: a larger object can
// only move by multipart copy.
const s = useStrictServer({ maxCopySize: 6 * MiB });
guardUnhandled();

describe("move", () => {
	it("at or below the threshold: one CopyObject, then the source is deleted", async () => {
		const d = s.driver({ multipartcopythresholdsize: 6 * MiB });
		const data = pattern(6 * MiB);
		await d.putContent("/src/a", data);
		s.server.stats.reset();
		await d.move("/src/a", "/dst/a");
		expect(s.server.stats.operations).toMatchObject({ CopyObject: 1, DeleteObject: 1 });
		expect(s.server.stats.operations.UploadPartCopy).toBeUndefined();
		expect((await d.getContent("/dst/a")).equals(data)).toBe(true);
		await expect(d.stat("/src/a")).rejects.toBeInstanceOf(PathNotFoundError);
	});

	it("above the threshold: parallel UploadPartCopy ranges, bounded concurrency, source pinned", async () => {
		const d = s.driver({
			multipartcopythresholdsize: 6 * MiB,
			multipartcopychunksize: 5 * MiB,
			multipartcopymaxconcurrency: 2,
		});
		const data = pattern(23 * MiB + 5, 2);
		await d.putContent("/src/big", data);
		s.server.stats.reset();
		// Slow copies, so the concurrency bound is what limits them.
		s.server.faults.inject({ operation: "UploadPartCopy", kind: "delay", delayMs: 60, times: 5 });
		await d.move("/src/big", "/dst/big");
		const st = s.server.stats;
		expect(st.operations).toMatchObject({
			CreateMultipartUpload: 1,
			UploadPartCopy: 5,
			CompleteMultipartUpload: 1,
		});
		expect(st.operations.CopyObject).toBeUndefined();
		expect(st.peakConcurrency.UploadPartCopy).toBe(2);
		expect(st.bytesCopied).toBe(data.length);
		expect(st.bytesIn + st.bytesOut).toBe(0);
		expect((await readAll(await d.reader("/dst/big"))).equals(data)).toBe(true);
		await expect(d.stat("/src/big")).rejects.toBeInstanceOf(PathNotFoundError);
	});

	it("keeps within the part limit by growing the copy chunk", async () => {
		const d = s.driver({
			multipartcopythresholdsize: 6 * MiB,
			multipartcopychunksize: 5 * MiB,
			maxparts: 2,
		});
		const data = pattern(11 * MiB, 3);
		await d.putContent("/src/c", data);
		s.server.stats.reset();
		await d.move("/src/c", "/dst/c");
		expect(s.server.stats.operations.UploadPartCopy).toBe(2);
		expect((await d.getContent("/dst/c")).equals(data)).toBe(true);
	});

	it("a failed part copy aborts the upload: no parts left behind, source intact", async () => {
		const d = s.driver({
			multipartcopythresholdsize: 6 * MiB,
			multipartcopychunksize: 5 * MiB,
			maxattempts: 1,
		});
		const data = pattern(12 * MiB, 4);
		await d.putContent("/src/d", data);
		s.server.faults.fail("UploadPartCopy", 1, 500);
		await expect(d.move("/src/d", "/dst/d")).rejects.toThrow();
		expect(leftovers(s.server, s.options().rootdirectory as string).uploads).toEqual([]);
		expect((await d.getContent("/src/d")).equals(data)).toBe(true);
		await expect(d.stat("/dst/d")).rejects.toBeInstanceOf(PathNotFoundError);
	});

	it("moving a path onto itself keeps it", async () => {
		const d = s.driver();
		await d.putContent("/same", pattern(10));
		await d.move("/same", "/same");
		expect((await d.getContent("/same")).length).toBe(10);
	});
});
