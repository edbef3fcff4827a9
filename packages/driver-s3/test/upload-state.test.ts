import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import type { DriverContext } from "../src/context.js";
import { markerName, segmentName, tailChain, usableParts } from "../src/upload-state.js";
import { BUCKET, guardUnhandled, useStrictServer } from "./support.js";

const seg = (offset: number, size: number) => ({ key: segmentName(offset), offset, size });
const ctx = { name: "s3" } as DriverContext;

describe("resume state", () => {
	it("the tail chains on from the parts; consumed, merged and unreachable segments are stale", () => {
		// A merge rewrote [100, 160) as one segment but crashed before deleting 130 and 150.
		const { chain, stale } = tailChain(
			[seg(100, 30), seg(130, 20), seg(150, 10), seg(100, 60), seg(40, 60), seg(300, 5)],
			100,
		);
		expect(chain).toEqual([seg(100, 60)]);
		expect(stale.map((s) => s.offset).sort((a, b) => a - b)).toEqual([40, 100, 130, 150, 300]);
		expect(() => tailChain([seg(90, 20)], 100)).toThrow(/overlaps/);
	});

	it("parts count only while contiguous and full; a short last part is a failed commit's", () => {
		const p = (PartNumber: number, Size: number) => ({ PartNumber, ETag: `"${PartNumber}"`, Size });
		expect(usableParts(ctx, "k", [p(1, 10), p(2, 10), p(3, 4)], 10)).toEqual([p(1, 10), p(2, 10)]);
		expect(usableParts(ctx, "k", [p(1, 10), p(3, 10)], 10)).toEqual([p(1, 10)]);
		expect(() => usableParts(ctx, "k", [p(1, 10), p(2, 4), p(3, 10)], 10)).toThrow(/inconsistent/);
	});

	it("markers and segment names sort and parse", () => {
		expect(segmentName(42)).toBe("tail.0000000000000042");
		expect(markerName(5, "a/b+c=")).toMatch(/^mpu\.5\.[A-Za-z0-9_-]+$/);
	});
});

describe("walk over a large directory", () => {
	const s = useStrictServer();
	guardUnhandled();

	it("skipping a directory jumps past its keys instead of listing them", async () => {
		const o = s.options();
		const raw = new S3Client({
			endpoint: s.server.url,
			region: "us-east-1",
			forcePathStyle: true,
			credentials: { accessKeyId: o.accesskey as string, secretAccessKey: o.secretkey as string },
		});
		const root = o.rootdirectory as string;
		await Promise.all(
			Array.from({ length: 300 }, (_, i) =>
				raw.send(
					new PutObjectCommand({
						Bucket: BUCKET,
						Key: `${root}/w/big/${i}`,
						Body: Buffer.from("x"),
					}),
				),
			),
		);
		for (const k of ["w/a", "w/z"])
			await raw.send(
				new PutObjectCommand({ Bucket: BUCKET, Key: `${root}/${k}`, Body: Buffer.from("x") }),
			);
		const d = s.driver();
		s.server.stats.reset();
		// Pages of 100 keys: the whole listing takes 4 pages.
		s.server.limits.maxListKeys = 100;
		const seen: string[] = [];
		await d.walk("/w", (info) => {
			seen.push(info.path);
			return info.path === "/w/big" ? "skip" : undefined;
		});
		expect(seen).toEqual(["/w/a", "/w/big", "/w/z"]);
		// One page up to the skip, one after the jump; not the four pages of the whole listing.
		expect(s.server.stats.operations.ListObjectsV2).toBe(2);
		s.server.limits.maxListKeys = 1000;
		await d.delete("/w");
		raw.destroy();
	});
});
