import { CreateMultipartUploadCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { PathNotFoundError, StorageDriverError } from "@stowage/core";
import { describe, expect, it } from "vitest";
import { STATE_TREE, UploadGoneError } from "../src/index.js";
import {
	BUCKET,
	guardUnhandled,
	KiB,
	leftovers,
	MiB,
	pattern,
	readAll,
	useStrictServer,
} from "./support.js";

const s = useStrictServer({ minPartSize: KiB });
guardUnhandled();

const small = { chunksize: 4 * KiB, minchunksize: KiB };

function rawClient(): S3Client {
	const o = s.options();
	return new S3Client({
		endpoint: s.server.url,
		region: "us-east-1",
		forcePathStyle: true,
		credentials: { accessKeyId: o.accesskey as string, secretAccessKey: o.secretkey as string },
	});
}

describe("transient errors are retried", () => {
	it("503 SlowDown and 500 InternalError on writes", async () => {
		const d = s.driver(small);
		s.server.faults.fail("PutObject", 2, 503);
		await d.putContent("/a", pattern(10));
		expect(s.server.faults.fired.PutObject).toBe(2);
		s.server.faults.fail("UploadPart", 2, 500);
		s.server.faults.fail("CreateMultipartUpload", 1, 503);
		const w = await d.writer("/b");
		await w.write(pattern(10 * KiB));
		await w.commit();
		expect((await d.getContent("/b")).equals(pattern(10 * KiB))).toBe(true);
		expect(s.server.faults.pending).toBe(0);
	});

	it("connection resets, before and after the server applied the request", async () => {
		const d = s.driver(small);
		s.server.faults.reset("PutObject", 1);
		s.server.faults.reset("ListObjectsV2", 1);
		s.server.faults.reset("DeleteObjects", 1, true);
		const w = await d.writer("/c");
		await w.write(pattern(5 * KiB, 2));
		await w.close();
		expect(s.server.faults.pending).toBe(0);
		const again = await d.writer("/c", { append: true });
		expect(again.size).toBe(5 * KiB);
		await again.commit();
		expect((await d.getContent("/c")).equals(pattern(5 * KiB, 2))).toBe(true);
	});

	it("a Complete whose answer was lost is recognised by the object's size, not by a 404", async () => {
		const d = s.driver(small);
		const data = pattern(9 * KiB, 3);
		const w = await d.writer("/completed");
		await w.write(data);
		s.server.faults.reset("CompleteMultipartUpload", 1, true);
		await w.commit();
		expect(w.size).toBe(data.length);
		expect((await d.getContent("/completed")).equals(data)).toBe(true);
		await d.delete("/completed");
		expect(leftovers(s.server, s.options().rootdirectory as string)).toEqual({
			objects: [],
			uploads: [],
		});
	});

	it("a retried CreateMultipartUpload does not leave the first upload behind", async () => {
		const d = s.driver(small);
		s.server.faults.reset("CreateMultipartUpload", 1, true);
		const w = await d.writer("/created");
		await w.write(pattern(6 * KiB));
		await w.cancel();
		expect(leftovers(s.server, s.options().rootdirectory as string)).toEqual({
			objects: [],
			uploads: [],
		});
	});

	it("a socket that stalls past requesttimeout is retried", async () => {
		const d = s.driver({ requesttimeout: 200 });
		await d.putContent("/slow", pattern(3));
		s.server.faults.inject({ operation: "HeadObject", kind: "delay", delayMs: 600 });
		expect((await d.stat("/slow")).size).toBe(3);
		expect(s.server.stats.operations.HeadObject).toBeGreaterThanOrEqual(2);
	});

	it("a reader whose body breaks off resumes where it stopped, pinned to the same version", async () => {
		const d = s.driver();
		const data = pattern(3 * MiB, 4);
		await d.putContent("/r", data);
		s.server.stats.reset();
		s.server.faults.inject({ operation: "GetObject", kind: "truncate", times: 2 });
		expect((await readAll(await d.reader("/r", 1000))).equals(data.subarray(1000))).toBe(true);
		expect(s.server.stats.operations.GetObject).toBe(3);
	});

	it("a reader never splices two versions: a replaced object fails the resumed read", async () => {
		const d = s.driver();
		await d.putContent("/v", pattern(2 * MiB, 5));
		s.server.faults.inject({ operation: "GetObject", kind: "truncate" });
		s.server.faults.inject({ operation: "GetObject", kind: "delay", delayMs: 400 });
		const stream = await d.reader("/v");
		let replaced = false;
		const read = (async () => {
			for await (const _ of stream) {
				if (!replaced) {
					replaced = true;
					await d.putContent("/v", pattern(2 * MiB, 6));
				}
			}
		})();
		await expect(read).rejects.toMatchObject({ name: "PreconditionFailed" });
	});

	it("tail segments read back while folding a part survive a broken body", async () => {
		const d = s.driver(small);
		const data = pattern(6 * KiB, 7);
		const w = await d.writer("/fold");
		await w.write(data.subarray(0, 3 * KiB));
		await w.close();
		s.server.faults.inject({ operation: "GetObject", kind: "truncate" });
		const again = await s.driver(small).writer("/fold", { append: true });
		await again.write(data.subarray(3 * KiB));
		await again.commit();
		expect((await d.getContent("/fold")).equals(data)).toBe(true);
	});

	it("when retries run out the error is typed, names the driver and keeps the SDK's as cause", async () => {
		const d = s.driver({ maxattempts: 2 });
		s.server.faults.fail("PutObject", 2, 503);
		const err = await d.putContent("/x", pattern(1)).catch((e: unknown) => e);
		expect(err).toBeInstanceOf(StorageDriverError);
		expect((err as Error).message).toMatch(/^s3: putContent \/x: SlowDown/);
		expect(
			(err as { cause?: { $metadata?: { httpStatusCode?: number } } }).cause?.$metadata
				?.httpStatusCode,
		).toBe(503);
	});
});

describe("errors are normalised once", () => {
	it("NoSuchKey and NotFound are PathNotFoundError with the SDK error as cause", async () => {
		const d = s.driver();
		for (const call of [
			() => d.getContent("/none"),
			() => d.reader("/none"),
			() => d.stat("/none"),
		]) {
			const err = await call().catch((e: unknown) => e);
			expect(err).toBeInstanceOf(PathNotFoundError);
		}
		const err = (await d.getContent("/none").catch((e: unknown) => e)) as PathNotFoundError;
		expect((err.cause as { name?: string }).name).toBe("NoSuchKey");
	});

	it("an upload aborted behind the driver's back is UploadGoneError, not a missing file", async () => {
		const d = s.driver(small);
		const w = await d.writer("/gone");
		await w.write(pattern(5 * KiB));
		await w.close();
		const bucket = s.server.store.buckets.get(BUCKET);
		for (const [id, u] of bucket?.uploads ?? [])
			if (u.key.endsWith("/gone")) bucket?.uploads.delete(id);
		const err = await d.writer("/gone", { append: true }).catch((e: unknown) => e);
		expect(err).toBeInstanceOf(UploadGoneError);
		expect(err).not.toBeInstanceOf(PathNotFoundError);
		expect((err as { cause?: { name?: string } }).cause?.name).toBe("NoSuchUpload");
		// A new session (or delete) clears the stale state.
		const fresh = await d.writer("/gone");
		await fresh.write(pattern(3));
		await fresh.commit();
		expect((await d.getContent("/gone")).length).toBe(3);
	});

	it("a missing bucket is a driver error, never PathNotFoundError", async () => {
		const d = s.driver({ bucket: "no-such-bucket" });
		const err = await d.getContent("/x").catch((e: unknown) => e);
		expect(err).toBeInstanceOf(StorageDriverError);
		expect((err as Error).message).toContain("NoSuchBucket");
	});
});

describe("crash windows leave nothing behind", () => {
	it("a CreateMultipartUpload whose marker was never written is swept on resume", async () => {
		const d = s.driver(small);
		const w = await d.writer("/crash");
		await w.write(pattern(3 * KiB));
		await w.close();
		// What a process that died right after CreateMultipartUpload leaves: the pending marker
		// and an upload no marker names.
		const root = s.options().rootdirectory as string;
		const raw = rawClient();
		await raw.send(
			new PutObjectCommand({
				Bucket: BUCKET,
				Key: `${root}/${STATE_TREE}/crash~/mpu-pending`,
				Body: Buffer.alloc(0),
			}),
		);
		await raw.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: `${root}/crash` }));
		expect(leftovers(s.server, root).uploads).toEqual([`${root}/crash`]);
		const resumed = await s.driver(small).writer("/crash", { append: true });
		expect(leftovers(s.server, root).uploads).toEqual([]);
		expect(resumed.size).toBe(3 * KiB);
		await resumed.write(pattern(2 * KiB));
		await resumed.commit();
		expect((await d.stat("/crash")).size).toBe(5 * KiB);
		raw.destroy();
	});

	it("an upload whose marker could not be written is aborted at once", async () => {
		const d = s.driver({ ...small, maxattempts: 1 });
		const w = await d.writer("/nomarker");
		s.server.faults.inject({ operation: "PutObject", kind: "error", status: 500, key: /\/mpu\./ });
		await expect(w.write(pattern(5 * KiB))).rejects.toThrow();
		expect(leftovers(s.server, s.options().rootdirectory as string).uploads).toEqual([]);
		await w.cancel();
	});

	it("segments left by a close that failed after its part was uploaded are not counted twice", async () => {
		const d = s.driver(small);
		const data = pattern(7 * KiB, 9);
		const w = await d.writer("/stale");
		await w.write(data.subarray(0, 3 * KiB));
		await w.close();
		const again = await s.driver({ ...small, maxattempts: 1 }).writer("/stale", { append: true });
		await again.write(data.subarray(3 * KiB, 5 * KiB));
		// Part 1 (the old tail plus 1 KiB) is in; deleting the consumed segment fails.
		s.server.faults.fail("DeleteObjects", 1, 500);
		await expect(again.close()).rejects.toThrow();
		const resumed = await s.driver(small).writer("/stale", { append: true });
		expect(resumed.size).toBe(5 * KiB);
		await resumed.write(data.subarray(5 * KiB));
		await resumed.commit();
		expect((await d.getContent("/stale")).equals(data)).toBe(true);
	});
});
