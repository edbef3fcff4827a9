import { describe, expect, it } from "vitest";
import { MAX_TAIL_SEGMENTS } from "../src/writer.js";
import {
	guardUnhandled,
	leftovers,
	MiB,
	pattern,
	readAll,
	session,
	useStrictServer,
} from "./support.js";

const s = useStrictServer();
guardUnhandled();

/** Bytes that crossed the wire or were copied inside the server since the last reset. */
function moved(): number {
	const st = s.server.stats;
	return st.bytesIn + st.bytesOut + st.bytesCopied;
}

/**
 * `count` sessions of `size` bytes, each on a new driver instance (its own SDK client), closed
 * between sessions, the last one committing. Returns the bytes moved and requests made.
 */
async function appendSessions(count: number, size: number, chunksize?: number) {
	const path = "/uploads/data";
	const data = pattern(count * size, count);
	s.server.stats.reset();
	for (let i = 0; i < count; i++) {
		const driver = s.driver(chunksize ? { chunksize } : {});
		const w = await session(driver, path, data.subarray(i * size, (i + 1) * size), {
			append: i > 0,
			end: i === count - 1 ? "commit" : "close",
		});
		expect(w.size).toBe((i + 1) * size);
	}
	const result = {
		bytes: moved(),
		requests: s.server.stats.requests,
		ops: { ...s.server.stats.operations },
	};
	const back = await readAll(await s.driver().reader(path));
	expect(back.equals(data)).toBe(true);
	return result;
}

describe("many small sessions cost O(n) bytes moved", () => {
	it("200 × 32-byte sessions across driver instances move about 3× the data, linearly", async () => {
		const small = await appendSessions(100, 32);
		await s.driver().delete("/uploads");
		const large = await appendSessions(200, 32);
		const n = 200 * 32;
		// Each byte crosses the wire three times: as a tail segment, read back once at commit,
		// and in the committed object (the last session's bytes go straight to the object).
		// Distribution's scheme moves about 1.28 MB here: every resume completes the upload, reads
		// everything so far back (sum 32(k-1) = 636,800) and uploads it again (sum 32k = 643,200).
		expect(large.bytes).toBe(3 * n - 2 * 32);
		expect(large.bytes / small.bytes).toBeCloseTo(2, 1);
		// And a bounded number of requests per session (list state, put segment, ...).
		expect(large.requests / 200).toBeLessThanOrEqual(4);
		await s.driver().delete("/uploads");
		expect(leftovers(s.server, s.options().rootdirectory as string)).toEqual({
			objects: [],
			uploads: [],
		});
	});

	it("10 MiB sessions (one full part each) upload every byte once and read nothing back", async () => {
		const { bytes, ops } = await appendSessions(3, 10 * MiB);
		expect(bytes).toBe(30 * MiB);
		expect(ops.GetObject ?? 0).toBe(0);
		expect(ops.UploadPart).toBe(3);
		expect(ops.CompleteMultipartUpload).toBe(1);
	});

	it("sessions smaller than a part fold into parts: each byte is read back at most once", async () => {
		// 3 MiB sessions with 5 MiB parts: tails are folded into the next part as it fills.
		const count = 7;
		const { bytes, ops } = await appendSessions(count, 3 * MiB, 5 * MiB);
		const n = count * 3 * MiB;
		expect(bytes).toBeLessThanOrEqual(3 * n);
		expect(ops.UploadPart).toBe(Math.ceil(n / (5 * MiB)));
		expect(ops.CopyObject ?? 0).toBe(0);
	});

	it(`more than ${MAX_TAIL_SEGMENTS} tail segments are merged, keeping resumes to one listing page`, async () => {
		const count = MAX_TAIL_SEGMENTS + 10;
		const { bytes, ops } = await appendSessions(count, 8);
		const n = count * 8;
		// One merge rewrites the tail once: still linear.
		expect(bytes).toBeLessThanOrEqual(5 * n);
		// One state listing per session: the tail never outgrows a page.
		expect(ops.ListObjectsV2).toBe(count);
	});
});
