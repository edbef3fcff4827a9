import { createHash } from "node:crypto";
import {
	AbortMultipartUploadCommand,
	CompleteMultipartUploadCommand,
	CreateMultipartUploadCommand,
	GetObjectCommand,
	ListMultipartUploadsCommand,
	ListPartsCommand,
	PutObjectCommand,
	UploadPartCommand,
	UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { BUCKET, s3Error, useServer } from "./helpers.js";

// Small limits keep the 5 MiB rule and pagination cheap to reach: 1 KiB minimum parts, pages
// of 3 parts and 2 uploads.
const MIN = 1024;
const t = useServer({
	limits: { minPartSize: MIN, maxListParts: 3, maxListUploads: 2, maxPartNumber: 50 },
});

async function create(key: string): Promise<string> {
	const out = await t.s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
	return out.UploadId as string;
}

async function part(key: string, uploadId: string, n: number, data: Buffer) {
	const out = await t.s3.send(
		new UploadPartCommand({
			Bucket: BUCKET,
			Key: key,
			UploadId: uploadId,
			PartNumber: n,
			Body: data,
		}),
	);
	return { PartNumber: n, ETag: out.ETag as string };
}

async function read(key: string): Promise<Buffer> {
	const out = await t.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
	return Buffer.from(
		await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
	);
}

describe("multipart uploads", () => {
	it("upload, list every page of parts, complete: the object is the parts in order", async () => {
		const key = "mpu/ok";
		const id = await create(key);
		const chunks = Array.from({ length: 7 }, (_, i) => Buffer.alloc(i === 6 ? 10 : MIN, i + 1));
		const parts = [];
		for (const [i, c] of chunks.entries()) parts.push(await part(key, id, i + 1, c));

		const seen: number[] = [];
		let marker: string | undefined;
		let pagesRead = 0;
		for (;;) {
			const page = await t.s3.send(
				new ListPartsCommand({
					Bucket: BUCKET,
					Key: key,
					UploadId: id,
					PartNumberMarker: marker,
					MaxParts: 1000,
				}),
			);
			pagesRead++;
			expect(page.MaxParts).toBe(3);
			expect(page.Parts?.length).toBeLessThanOrEqual(3);
			for (const p of page.Parts ?? []) {
				seen.push(p.PartNumber as number);
				expect(p.Size).toBe(chunks[(p.PartNumber as number) - 1]?.length);
			}
			if (!page.IsTruncated) break;
			marker = page.NextPartNumberMarker;
		}
		expect(pagesRead).toBe(3);
		expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]);

		const done = await t.s3.send(
			new CompleteMultipartUploadCommand({
				Bucket: BUCKET,
				Key: key,
				UploadId: id,
				MultipartUpload: { Parts: parts },
			}),
		);
		const md5s = createHash("md5");
		for (const c of chunks) md5s.update(createHash("md5").update(c).digest());
		expect(done.ETag).toBe(`"${md5s.digest("hex")}-7"`);
		expect((await read(key)).equals(Buffer.concat(chunks))).toBe(true);
		// A completed upload is gone.
		expect(
			await s3Error(t.s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: id }))),
		).toMatchObject({
			name: "NoSuchUpload",
			status: 404,
		});
	});

	it("Complete enforces the minimum size of non-last parts (EntityTooSmall)", async () => {
		const key = "mpu/small";
		const id = await create(key);
		const parts = [
			await part(key, id, 1, Buffer.alloc(MIN - 1)),
			await part(key, id, 2, Buffer.alloc(5)),
		];
		const err = await s3Error(
			t.s3.send(
				new CompleteMultipartUploadCommand({
					Bucket: BUCKET,
					Key: key,
					UploadId: id,
					MultipartUpload: { Parts: parts },
				}),
			),
		);
		expect(err).toMatchObject({ name: "EntityTooSmall", status: 400 });
		// The last part alone may be small; the upload is still there after the failure.
		await t.s3.send(
			new CompleteMultipartUploadCommand({
				Bucket: BUCKET,
				Key: key,
				UploadId: id,
				MultipartUpload: { Parts: parts.slice(0, 1) },
			}),
		);
		expect((await read(key)).length).toBe(MIN - 1);
	});

	it("Complete refuses unknown parts, wrong ETags, bad order and an empty list", async () => {
		const key = "mpu/bad";
		const id = await create(key);
		const p1 = await part(key, id, 1, Buffer.alloc(MIN));
		const p2 = await part(key, id, 2, Buffer.alloc(MIN));
		const complete = (Parts: { PartNumber: number; ETag: string }[]) =>
			s3Error(
				t.s3.send(
					new CompleteMultipartUploadCommand({
						Bucket: BUCKET,
						Key: key,
						UploadId: id,
						MultipartUpload: { Parts },
					}),
				),
			);
		expect(await complete([p1, { PartNumber: 3, ETag: p2.ETag }])).toMatchObject({
			name: "InvalidPart",
		});
		expect(await complete([p1, { PartNumber: 2, ETag: '"0123"' }])).toMatchObject({
			name: "InvalidPart",
		});
		expect(await complete([p2, p1])).toMatchObject({ name: "InvalidPartOrder" });
		expect(await complete([p1, p1])).toMatchObject({ name: "InvalidPartOrder" });
		expect(await complete([])).toMatchObject({ name: "MalformedXML" });
		expect(
			await s3Error(
				t.s3.send(
					new UploadPartCommand({
						Bucket: BUCKET,
						Key: key,
						UploadId: id,
						PartNumber: 51,
						Body: Buffer.alloc(1),
					}),
				),
			),
		).toMatchObject({ name: "InvalidArgument" });
		expect(
			await s3Error(
				t.s3.send(
					new UploadPartCommand({
						Bucket: BUCKET,
						Key: "mpu/other",
						UploadId: id,
						PartNumber: 1,
						Body: Buffer.alloc(1),
					}),
				),
			),
		).toMatchObject({ name: "NoSuchUpload" });
		await t.s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: id }));
	});

	it("Abort removes the upload: later calls give NoSuchUpload", async () => {
		const key = "mpu/abort";
		const id = await create(key);
		await part(key, id, 1, Buffer.alloc(10));
		await t.s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: id }));
		for (const call of [
			() => t.s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: id })),
			() =>
				t.s3.send(
					new UploadPartCommand({
						Bucket: BUCKET,
						Key: key,
						UploadId: id,
						PartNumber: 2,
						Body: Buffer.alloc(1),
					}),
				),
			() => t.s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: id })),
			() =>
				t.s3.send(
					new CompleteMultipartUploadCommand({
						Bucket: BUCKET,
						Key: key,
						UploadId: id,
						MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"x"' }] },
					}),
				),
		]) {
			expect(await s3Error(call())).toMatchObject({ name: "NoSuchUpload", status: 404 });
		}
		expect(await s3Error(read(key))).toMatchObject({ name: "NoSuchKey" });
	});

	it("UploadPartCopy copies byte ranges of an object into parts", async () => {
		const source = Buffer.from(Array.from({ length: 3 * MIN + 100 }, (_, i) => i % 251));
		await t.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "mpu/source", Body: source }));
		const key = "mpu/copied";
		const id = await create(key);
		const ranges = [
			[0, MIN + 9],
			[MIN + 10, 2 * MIN + 19],
			[2 * MIN + 20, source.length - 1],
		] as const;
		const before = t.server.stats.bytesCopied;
		const parts = [];
		for (const [i, [first, last]] of ranges.entries()) {
			const out = await t.s3.send(
				new UploadPartCopyCommand({
					Bucket: BUCKET,
					Key: key,
					UploadId: id,
					PartNumber: i + 1,
					CopySource: `${BUCKET}/mpu/source`,
					CopySourceRange: `bytes=${first}-${last}`,
				}),
			);
			parts.push({ PartNumber: i + 1, ETag: out.CopyPartResult?.ETag as string });
		}
		expect(t.server.stats.bytesCopied - before).toBe(source.length);
		for (const range of [`bytes=0-${source.length}`, "bytes=5-4", "bytes=abc"]) {
			expect(
				await s3Error(
					t.s3.send(
						new UploadPartCopyCommand({
							Bucket: BUCKET,
							Key: key,
							UploadId: id,
							PartNumber: 9,
							CopySource: `${BUCKET}/mpu/source`,
							CopySourceRange: range,
						}),
					),
				),
			).toMatchObject({ name: "InvalidArgument", status: 400 });
		}
		await t.s3.send(
			new CompleteMultipartUploadCommand({
				Bucket: BUCKET,
				Key: key,
				UploadId: id,
				MultipartUpload: { Parts: parts },
			}),
		);
		expect((await read(key)).equals(source)).toBe(true);
	});

	it("ListMultipartUploads pages by key and upload id, with prefix and delimiter", async () => {
		const ids: string[] = [];
		for (const key of ["lmu/a", "lmu/a", "lmu/b", "lmu/c/1", "lmu/c/2", "lmu/d"])
			ids.push(await create(key));
		const seen: string[] = [];
		let keyMarker: string | undefined;
		let uploadIdMarker: string | undefined;
		let pagesRead = 0;
		for (;;) {
			const page = await t.s3.send(
				new ListMultipartUploadsCommand({
					Bucket: BUCKET,
					Prefix: "lmu/",
					KeyMarker: keyMarker,
					UploadIdMarker: uploadIdMarker,
				}),
			);
			pagesRead++;
			expect((page.Uploads?.length ?? 0) + (page.CommonPrefixes?.length ?? 0)).toBeLessThanOrEqual(
				2,
			);
			for (const u of page.Uploads ?? []) seen.push(`${u.Key} ${u.UploadId}`);
			if (!page.IsTruncated) break;
			keyMarker = page.NextKeyMarker;
			uploadIdMarker = page.NextUploadIdMarker;
		}
		expect(pagesRead).toBe(3);
		expect(seen.length).toBe(6);
		expect(new Set(seen).size).toBe(6);
		const grouped = await t.s3.send(
			new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: "lmu/c", Delimiter: "/" }),
		);
		expect(grouped.CommonPrefixes?.map((p) => p.Prefix)).toEqual(["lmu/c/"]);
		expect(grouped.Uploads).toBeUndefined();
		for (const [i, key] of ["lmu/a", "lmu/a", "lmu/b", "lmu/c/1", "lmu/c/2", "lmu/d"].entries()) {
			await t.s3.send(
				new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: ids[i] }),
			);
		}
		const empty = await t.s3.send(
			new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: "lmu/" }),
		);
		expect(empty.Uploads).toBeUndefined();
	});
});
