import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import {
	CompleteMultipartUploadCommand,
	CreateMultipartUploadCommand,
	GetObjectCommand,
	ListObjectsV2Command,
	PutObjectCommand,
	UploadPartCommand,
} from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { BUCKET, client, s3Error, useServer } from "./helpers.js";

const t = useServer();

describe("fault injection", () => {
	it("fails the next N requests of one operation with 503 SlowDown, then recovers", async () => {
		t.server.faults.fail("PutObject", 2);
		const once = client(t.server);
		expect(
			await s3Error(
				once.send(new PutObjectCommand({ Bucket: BUCKET, Key: "f/a", Body: Buffer.from("a") })),
			),
		).toMatchObject({
			name: "SlowDown",
			status: 503,
		});
		// The SDK's own retries get through the second fault.
		const retrying = client(t.server, { maxAttempts: 3 });
		await retrying.send(
			new PutObjectCommand({ Bucket: BUCKET, Key: "f/a", Body: Buffer.from("a") }),
		);
		expect(t.server.faults.pending).toBe(0);
		expect(t.server.faults.fired.PutObject).toBe(2);
		// Other operations were never affected.
		await once.send(new ListObjectsV2Command({ Bucket: BUCKET }));
		once.destroy();
		retrying.destroy();
	});

	it("500 InternalError and a key filter", async () => {
		t.server.faults.inject({ operation: "GetObject", status: 500, key: /^f\/only/ });
		await t.s3.send(
			new PutObjectCommand({ Bucket: BUCKET, Key: "f/other", Body: Buffer.from("x") }),
		);
		await t.s3.send(
			new PutObjectCommand({ Bucket: BUCKET, Key: "f/only", Body: Buffer.from("x") }),
		);
		await (
			await t.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "f/other" }))
		).Body?.transformToByteArray();
		expect(
			await s3Error(t.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "f/only" }))),
		).toMatchObject({
			name: "InternalError",
			status: 500,
		});
	});

	it("reset drops the connection before applying; reset-after applies, then drops", async () => {
		t.server.faults.reset("PutObject");
		const err = await s3Error(
			t.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "f/reset", Body: Buffer.from("r") })),
		);
		expect(err.status).toBeUndefined();
		expect(t.server.store.buckets.get(BUCKET)?.get("f/reset")).toBeUndefined();

		const key = "f/completed";
		const { UploadId } = await t.s3.send(
			new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }),
		);
		const p = await t.s3.send(
			new UploadPartCommand({
				Bucket: BUCKET,
				Key: key,
				UploadId,
				PartNumber: 1,
				Body: Buffer.from("x"),
			}),
		);
		t.server.faults.reset("CompleteMultipartUpload", 1, true);
		const retrying = client(t.server, { maxAttempts: 3 });
		// The first attempt completed the upload but the answer was lost; the retry finds no upload.
		expect(
			await s3Error(
				retrying.send(
					new CompleteMultipartUploadCommand({
						Bucket: BUCKET,
						Key: key,
						UploadId,
						MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p.ETag }] },
					}),
				),
			),
		).toMatchObject({ name: "NoSuchUpload" });
		expect(t.server.store.buckets.get(BUCKET)?.get(key)?.data.toString()).toBe("x");
		retrying.destroy();
	});

	it("truncate cuts a GetObject body short", async () => {
		await t.s3.send(
			new PutObjectCommand({ Bucket: BUCKET, Key: "f/long", Body: Buffer.alloc(1 << 20, 1) }),
		);
		t.server.faults.inject({ operation: "GetObject", kind: "truncate" });
		const out = await t.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "f/long" }));
		await expect(out.Body?.transformToByteArray()).rejects.toThrow();
	});

	it("counts requests and bytes", async () => {
		t.server.stats.reset();
		await t.s3.send(
			new PutObjectCommand({ Bucket: BUCKET, Key: "f/count", Body: Buffer.alloc(100) }),
		);
		await (
			await t.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "f/count", Range: "bytes=0-9" }))
		).Body?.transformToByteArray();
		expect(t.server.stats.snapshot()).toEqual({
			requests: 2,
			operations: { PutObject: 1, GetObject: 1 },
			bytesIn: 100,
			bytesOut: 10,
			bytesCopied: 0,
		});
	});
});

describe("cli", () => {
	it("starts from dist/cli.js, prints its URL, serves the SDK, stops on SIGTERM", async () => {
		const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
		const child = spawn(
			process.execPath,
			[cli, "--access-key", "cli-key", "--secret-key", "cli-secret", "--bucket", "cli-bucket"],
			{
				stdio: ["ignore", "pipe", "inherit"],
			},
		);
		try {
			const [line] = (await once(child.stdout, "data")) as [Buffer];
			const { url } = JSON.parse(line.toString()) as { url: string };
			const s3 = client({ url, region: "us-east-1" } as never, {
				accessKeyId: "cli-key",
				secretAccessKey: "cli-secret",
			});
			await s3.send(
				new PutObjectCommand({ Bucket: "cli-bucket", Key: "k", Body: Buffer.from("v") }),
			);
			expect((await s3.send(new ListObjectsV2Command({ Bucket: "cli-bucket" }))).KeyCount).toBe(1);
			s3.destroy();
		} finally {
			child.kill("SIGTERM");
			const [code] = (await once(child, "exit")) as [number | null];
			expect(code).toBe(0);
		}
	});
});
