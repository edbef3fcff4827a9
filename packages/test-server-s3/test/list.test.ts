import {
	DeleteObjectsCommand,
	ListObjectsV2Command,
	type ListObjectsV2CommandOutput,
	PutObjectCommand,
} from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { BUCKET, s3Error, useServer } from "./helpers.js";

const t = useServer();

async function put(keys: string[]): Promise<void> {
	for (const key of keys) {
		await t.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: Buffer.from(key) }));
	}
}

/** Every page of a listing, following continuation tokens. */
async function pages(input: {
	Prefix?: string;
	Delimiter?: string;
	MaxKeys?: number;
	StartAfter?: string;
}) {
	const out: ListObjectsV2CommandOutput[] = [];
	let token: string | undefined;
	do {
		const page = await t.s3.send(
			new ListObjectsV2Command({ Bucket: BUCKET, ...input, ContinuationToken: token }),
		);
		out.push(page);
		token = page.NextContinuationToken;
		expect(Boolean(token)).toBe(Boolean(page.IsTruncated));
	} while (token);
	return out;
}

describe("ListObjectsV2", () => {
	it("lists keys under a prefix in byte order, across pages", async () => {
		const keys = ["l1/b", "l1/a", "l1/B", "l1/a-", "l1/a/", "l1/a0", "l1/é", "l1/z", "l2/a"];
		await put(keys);
		const all = await pages({ Prefix: "l1/", MaxKeys: 3 });
		expect(all.length).toBe(3);
		expect(all.flatMap((p) => p.Contents?.map((c) => c.Key) ?? [])).toEqual([
			"l1/B",
			"l1/a",
			"l1/a-",
			"l1/a/",
			"l1/a0",
			"l1/b",
			"l1/z",
			"l1/é",
		]);
		expect(all[0]?.KeyCount).toBe(3);
		expect(all[0]?.Contents?.[0]?.Size).toBe(4);
	});

	it("delimiter rolls keys up into common prefixes that count towards MaxKeys", async () => {
		await put(["d/x/1", "d/x/2", "d/x/3", "d/y", "d/z/1", "d/z/2", "d/zz"]);
		const all = await pages({ Prefix: "d/", Delimiter: "/", MaxKeys: 2 });
		const items = all.map((p) => [
			...(p.CommonPrefixes?.map((c) => `P:${c.Prefix}`) ?? []),
			...(p.Contents?.map((c) => `K:${c.Key}`) ?? []),
		]);
		expect(items).toEqual([
			["P:d/x/", "K:d/y"],
			["P:d/z/", "K:d/zz"],
		]);
		expect(all.every((p) => (p.KeyCount ?? 0) <= 2)).toBe(true);
	});

	it("start-after skips keys at or before it; an empty prefix lists the bucket", async () => {
		await put(["s/a", "s/b", "s/c"]);
		const [page] = await pages({ Prefix: "s/", StartAfter: "s/a" });
		expect(page?.Contents?.map((c) => c.Key)).toEqual(["s/b", "s/c"]);
		const none = await t.s3.send(
			new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "nothing-here/" }),
		);
		expect(none.KeyCount).toBe(0);
		expect(none.Contents).toBeUndefined();
		expect(none.IsTruncated).toBe(false);
	});

	it("a bad continuation token is InvalidArgument", async () => {
		expect(
			await s3Error(
				t.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: "garbage" })),
			),
		).toMatchObject({
			name: "InvalidArgument",
			status: 400,
		});
	});
});

describe("DeleteObjects", () => {
	it("deletes up to 1000 keys per request, quietly or not, and refuses more", async () => {
		const keys = Array.from({ length: 1001 }, (_, i) => `del/${String(i).padStart(4, "0")}`);
		await put(keys);
		const loud = await t.s3.send(
			new DeleteObjectsCommand({
				Bucket: BUCKET,
				Delete: { Objects: [{ Key: "del/0000" }, { Key: "del/missing" }] },
			}),
		);
		expect(loud.Deleted?.map((d) => d.Key).sort()).toEqual(["del/0000", "del/missing"]);
		expect(
			await s3Error(
				t.s3.send(
					new DeleteObjectsCommand({
						Bucket: BUCKET,
						Delete: { Objects: keys.map((Key) => ({ Key })) },
					}),
				),
			),
		).toMatchObject({ name: "MalformedXML", status: 400 });
		const quiet = await t.s3.send(
			new DeleteObjectsCommand({
				Bucket: BUCKET,
				Delete: { Quiet: true, Objects: keys.slice(1).map((Key) => ({ Key })) },
			}),
		);
		expect(quiet.Deleted).toBeUndefined();
		expect(quiet.Errors).toBeUndefined();
		const left = await t.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "del/" }));
		expect(left.KeyCount).toBe(0);
	});

	it("requires an integrity header (Content-MD5 or a checksum)", async () => {
		t.s3.middlewareStack.add(
			(next) => async (args) => {
				const request = args.request as { headers: Record<string, string> };
				for (const name of Object.keys(request.headers)) {
					if (
						name.toLowerCase().startsWith("x-amz-checksum-") ||
						name.toLowerCase() === "x-amz-sdk-checksum-algorithm"
					) {
						delete request.headers[name];
					}
				}
				return next(args);
			},
			{ step: "build", priority: "low", name: "dropChecksum" },
		);
		try {
			const err = await s3Error(
				t.s3.send(
					new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [{ Key: "k" }] } }),
				),
			);
			expect(err).toMatchObject({ name: "InvalidRequest", status: 400 });
			expect(err.message).toContain("Content-MD5");
		} finally {
			t.s3.middlewareStack.remove("dropChecksum");
		}
	});
});
