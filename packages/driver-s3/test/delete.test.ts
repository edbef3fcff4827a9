import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { PathNotFoundError } from "@stowage/core";
import { describe, expect, it } from "vitest";
import { BUCKET, guardUnhandled, leftovers, MiB, pattern, useStrictServer } from "./support.js";

const s = useStrictServer();
guardUnhandled();

function raw(): S3Client {
	const o = s.options();
	return new S3Client({
		endpoint: s.server.url,
		region: "us-east-1",
		forcePathStyle: true,
		credentials: { accessKeyId: o.accesskey as string, secretAccessKey: o.secretkey as string },
		requestChecksumCalculation: "WHEN_REQUIRED",
	});
}

describe("delete", () => {
	it("deletes more than 1,000 keys in DeleteObjects batches of at most 1,000", async () => {
		const d = s.driver();
		const client = raw();
		const root = s.options().rootdirectory as string;
		// Written directly: 2,500 putContent calls through the driver would only be slower.
		await Promise.all(
			Array.from({ length: 2500 }, (_, i) =>
				client.send(
					new PutObjectCommand({
						Bucket: BUCKET,
						Key: `${root}/many/${i % 7}/f${i}`,
						Body: Buffer.from("x"),
					}),
				),
			),
		);
		await d.putContent("/many-sibling", pattern(4));
		s.server.stats.reset();
		await d.delete("/many");
		expect(s.server.stats.operations.DeleteObjects).toBe(3);
		await expect(d.list("/many")).rejects.toBeInstanceOf(PathNotFoundError);
		expect(await d.list("/")).toEqual(["/many-sibling"]);
		client.destroy();
	});

	it("aborts the multipart uploads of uncommitted files below the path", async () => {
		const d = s.driver({ chunksize: 5 * MiB });
		const w = await d.writer("/dir/upload/data");
		await w.write(pattern(6 * MiB));
		await w.close();
		await d.putContent("/dir/upload/startedat", pattern(3));
		const root = s.options().rootdirectory as string;
		expect(leftovers(s.server, root).uploads).toEqual([`${root}/dir/upload/data`]);
		await d.delete("/dir");
		expect(leftovers(s.server, root)).toEqual({ objects: [], uploads: [] });
	});

	it("a path with only uncommitted state is not found, and its state is gone", async () => {
		const d = s.driver();
		const w = await d.writer("/pending");
		await w.write(pattern(10));
		await w.close();
		await expect(d.delete("/pending")).rejects.toBeInstanceOf(PathNotFoundError);
		await expect(d.writer("/pending", { append: true })).rejects.toBeInstanceOf(PathNotFoundError);
		expect(leftovers(s.server, s.options().rootdirectory as string).objects).toEqual([]);
	});

	it("directory markers and keys no driver path can have never crash list, walk or delete", async () => {
		// Distribution's purger crashed on such keys (#2908, #4713): empty names, `dir/` markers.
		const d = s.driver();
		const client = raw();
		const root = s.options().rootdirectory as string;
		for (const key of ["r/_uploads/", "r//double", "r/x/", "r/bad name", "r/ok/file", "r/~tilde"]) {
			await client.send(
				new PutObjectCommand({
					Bucket: BUCKET,
					Key: `${root}/${key}`,
					Body: Buffer.from(key.endsWith("/") ? "" : "x"),
				}),
			);
		}
		expect(await d.list("/r")).toEqual(["/r/_uploads", "/r/ok", "/r/x"]);
		const walked: string[] = [];
		await d.walk("/r", (info) => {
			walked.push(`${info.isDir ? "d" : "f"} ${info.path}`);
			return undefined;
		});
		expect(walked).toEqual(["d /r/_uploads", "d /r/ok", "f /r/ok/file", "d /r/x"]);
		expect((await d.stat("/r/_uploads")).isDir).toBe(true);
		await d.delete("/r");
		expect(leftovers(s.server, root).objects).toEqual([]);
		client.destroy();
	});
});
