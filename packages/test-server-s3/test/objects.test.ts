import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import {
	CopyObjectCommand,
	DeleteObjectCommand,
	GetObjectCommand,
	HeadObjectCommand,
	PutObjectCommand,
} from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { BUCKET, client, MiB, s3Error, useServer } from "./helpers.js";

const t = useServer({ limits: { maxCopySize: 2 * MiB } });

async function body(s3: ReturnType<typeof client>, key: string, range?: string): Promise<Buffer> {
	const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, Range: range }));
	return Buffer.from(
		await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
	);
}

describe("objects", () => {
	it("PutObject, GetObject, HeadObject, DeleteObject round-trip with metadata", async () => {
		const { s3 } = t;
		const data = Buffer.from("hello, strict world");
		const put = await s3.send(
			new PutObjectCommand({
				Bucket: BUCKET,
				Key: "a/b c/ü~.txt",
				Body: data,
				ContentType: "text/plain",
				Metadata: { origin: "test" },
				StorageClass: "STANDARD_IA",
				ServerSideEncryption: "AES256",
			}),
		);
		expect(put.ETag).toBe(`"${createHash("md5").update(data).digest("hex")}"`);
		expect(put.ServerSideEncryption).toBe("AES256");
		expect(await body(s3, "a/b c/ü~.txt")).toEqual(data);
		const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "a/b c/ü~.txt" }));
		expect(head.ContentLength).toBe(data.length);
		expect(head.ContentType).toBe("text/plain");
		expect(head.Metadata).toEqual({ origin: "test" });
		expect(head.StorageClass).toBe("STANDARD_IA");
		expect(head.LastModified).toBeInstanceOf(Date);
		await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: "a/b c/ü~.txt" }));
		expect(
			await s3Error(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "a/b c/ü~.txt" }))),
		).toMatchObject({
			name: "NoSuchKey",
			status: 404,
		});
		expect(
			await s3Error(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "a/b c/ü~.txt" }))),
		).toMatchObject({
			name: "NotFound",
			status: 404,
		});
		// Deleting a missing key is not an error in S3.
		await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: "never-existed" }));
	});

	it("GetObject ranges: closed, open, suffix, clamped, unsatisfiable (416 InvalidRange)", async () => {
		const { s3 } = t;
		const data = Buffer.from("0123456789");
		await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "range", Body: data }));
		expect((await body(s3, "range", "bytes=2-4")).toString()).toBe("234");
		expect((await body(s3, "range", "bytes=7-")).toString()).toBe("789");
		expect((await body(s3, "range", "bytes=-3")).toString()).toBe("789");
		expect((await body(s3, "range", "bytes=8-100")).toString()).toBe("89");
		const out = await s3.send(
			new GetObjectCommand({ Bucket: BUCKET, Key: "range", Range: "bytes=2-4" }),
		);
		expect(out.ContentRange).toBe("bytes 2-4/10");
		await out.Body?.transformToByteArray();
		for (const range of ["bytes=10-", "bytes=11-20"]) {
			expect(
				await s3Error(
					s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "range", Range: range })),
				),
			).toMatchObject({
				name: "InvalidRange",
				status: 416,
			});
		}
		await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "empty", Body: Buffer.alloc(0) }));
		expect((await body(s3, "empty")).length).toBe(0);
		expect(
			await s3Error(
				s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "empty", Range: "bytes=0-" })),
			),
		).toMatchObject({
			name: "InvalidRange",
		});
	});

	it("conditional reads and writes", async () => {
		const { s3 } = t;
		const put = await s3.send(
			new PutObjectCommand({ Bucket: BUCKET, Key: "cond", Body: Buffer.from("x") }),
		);
		expect(
			await s3Error(
				s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "cond", IfMatch: '"nope"' })),
			),
		).toMatchObject({
			name: "PreconditionFailed",
			status: 412,
		});
		expect(
			(await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "cond", IfMatch: put.ETag })))
				.ContentLength,
		).toBe(1);
		expect(
			await s3Error(
				s3.send(
					new PutObjectCommand({
						Bucket: BUCKET,
						Key: "cond",
						Body: Buffer.from("y"),
						IfNoneMatch: "*",
					}),
				),
			),
		).toMatchObject({ name: "PreconditionFailed", status: 412 });
	});

	it("streamed bodies with the SDK's default aws-chunked framing are decoded, never stored raw", async () => {
		const s3 = client(t.server, { checksums: "WHEN_SUPPORTED" });
		const data = Buffer.alloc(3 * MiB + 17, 7);
		await s3.send(
			new PutObjectCommand({
				Bucket: BUCKET,
				Key: "chunked",
				Body: Readable.from([data.subarray(0, MiB), data.subarray(MiB)]),
				ContentLength: data.length,
			}),
		);
		const got = await body(s3, "chunked");
		expect(got.length).toBe(data.length);
		expect(got.equals(data)).toBe(true);
		s3.destroy();
	});

	it("a body that does not match its signed sha256 or checksum is refused", async () => {
		const { s3 } = t;
		s3.middlewareStack.add(
			(next) => async (args) => {
				const request = args.request as { body?: unknown; headers: Record<string, string> };
				if (request.headers["x-amz-meta-tamper"] === "body") request.body = Buffer.from("evil!");
				return next(args);
			},
			{ step: "finalizeRequest", priority: "low", name: "tamperAfterSigning" },
		);
		try {
			expect(
				await s3Error(
					s3.send(
						new PutObjectCommand({
							Bucket: BUCKET,
							Key: "tamper",
							Body: Buffer.from("good!"),
							Metadata: { tamper: "body" },
						}),
					),
				),
			).toMatchObject({ name: "XAmzContentSHA256Mismatch", status: 400 });
		} finally {
			s3.middlewareStack.remove("tamperAfterSigning");
		}
		expect(
			await s3Error(
				s3.send(
					new PutObjectCommand({
						Bucket: BUCKET,
						Key: "md5",
						Body: Buffer.from("x"),
						ContentMD5: "AAAAAAAAAAAAAAAAAAAAAA==",
					}),
				),
			),
		).toMatchObject({ name: "BadDigest", status: 400 });
		expect(
			await s3Error(
				s3.send(
					new PutObjectCommand({
						Bucket: BUCKET,
						Key: "crc",
						Body: Buffer.from("x"),
						ChecksumCRC32: "AAAAAA==",
					}),
				),
			),
		).toMatchObject({ name: "BadDigest" });
	});

	it("CopyObject copies content and metadata, refuses self-copies and sources above the limit", async () => {
		const { s3, server } = t;
		await s3.send(
			new PutObjectCommand({
				Bucket: BUCKET,
				Key: "src/one",
				Body: Buffer.from("copy me"),
				Metadata: { m: "1" },
			}),
		);
		const before = server.stats.bytesCopied;
		const out = await s3.send(
			new CopyObjectCommand({ Bucket: BUCKET, Key: "dst/one", CopySource: `${BUCKET}/src/one` }),
		);
		expect(out.CopyObjectResult?.ETag).toMatch(/^"[0-9a-f]{32}"$/);
		expect(server.stats.bytesCopied - before).toBe(7);
		expect((await body(s3, "dst/one")).toString()).toBe("copy me");
		expect(
			(await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "dst/one" }))).Metadata,
		).toEqual({ m: "1" });
		expect(
			await s3Error(
				s3.send(
					new CopyObjectCommand({
						Bucket: BUCKET,
						Key: "src/one",
						CopySource: `${BUCKET}/src/one`,
					}),
				),
			),
		).toMatchObject({
			name: "InvalidRequest",
		});
		expect(
			await s3Error(
				s3.send(
					new CopyObjectCommand({ Bucket: BUCKET, Key: "x", CopySource: `${BUCKET}/missing` }),
				),
			),
		).toMatchObject({
			name: "NoSuchKey",
			status: 404,
		});
		await s3.send(
			new PutObjectCommand({ Bucket: BUCKET, Key: "big", Body: Buffer.alloc(2 * MiB + 1) }),
		);
		const tooBig = await s3Error(
			s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: "big2", CopySource: `${BUCKET}/big` })),
		);
		expect(tooBig).toMatchObject({ name: "InvalidRequest", status: 400 });
		expect(tooBig.message).toContain("larger than the maximum allowable size");
	});

	it("unknown buckets and unimplemented sub-resources are explicit errors", async () => {
		const { s3 } = t;
		expect(
			await s3Error(s3.send(new GetObjectCommand({ Bucket: "no-such-bucket", Key: "k" }))),
		).toMatchObject({
			name: "NoSuchBucket",
			status: 404,
		});
		expect(
			await s3Error(
				s3.send(
					new PutObjectCommand({ Bucket: BUCKET, Key: "k".repeat(1025), Body: Buffer.from("x") }),
				),
			),
		).toMatchObject({
			name: "KeyTooLongError",
		});
	});
});
