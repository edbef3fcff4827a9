import { request } from "node:http";
import {
	GetObjectCommand,
	HeadObjectCommand,
	ListObjectsV2Command,
	PutObjectCommand,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { describe, expect, it } from "vitest";
import { startS3TestServer } from "../src/index.js";
import { BUCKET, client, s3Error, useServer } from "./helpers.js";

const t = useServer();

/** The error code in an S3 XML error body. */
async function codeOf(res: Response): Promise<string | undefined> {
	return /<Code>([^<]+)<\/Code>/.exec(await res.text())?.[1];
}

describe("SigV4 header authentication", () => {
	it("accepts the configured key and rejects a wrong secret, an unknown key or a wrong region", async () => {
		await t.s3.send(
			new PutObjectCommand({ Bucket: BUCKET, Key: "auth/ok", Body: Buffer.from("ok") }),
		);
		const wrongSecret = client(t.server, { secretAccessKey: "not-the-secret" });
		expect(
			await s3Error(wrongSecret.send(new GetObjectCommand({ Bucket: BUCKET, Key: "auth/ok" }))),
		).toMatchObject({
			name: "SignatureDoesNotMatch",
			status: 403,
		});
		const unknown = client(t.server, { accessKeyId: "AKIDUNKNOWN" });
		expect(await s3Error(unknown.send(new ListObjectsV2Command({ Bucket: BUCKET })))).toMatchObject(
			{
				name: "InvalidAccessKeyId",
				status: 403,
			},
		);
		const otherRegion = client(t.server, { region: "eu-west-1" });
		expect(
			await s3Error(otherRegion.send(new ListObjectsV2Command({ Bucket: BUCKET }))),
		).toMatchObject({
			name: "AuthorizationHeaderMalformed",
			status: 400,
		});
		for (const c of [wrongSecret, unknown, otherRegion]) c.destroy();
	});

	it("rejects anonymous requests and requests signed too long ago", async () => {
		const res = await fetch(`${t.server.url}/${BUCKET}?list-type=2`);
		expect(res.status).toBe(403);
		expect(await codeOf(res)).toBe("AccessDenied");
		const skewed = client(t.server);
		skewed.config.systemClockOffset = -3_600_000;
		expect(await s3Error(skewed.send(new ListObjectsV2Command({ Bucket: BUCKET })))).toMatchObject({
			name: "RequestTimeTooSkewed",
			status: 403,
		});
		skewed.destroy();
	});

	it("verifies aws-chunked chunk signatures with AWS's published example, and rejects a tampered chunk", async () => {
		// AWS's "Transferring Payload in Multiple Chunks" example: 66,560 bytes of 'a' in a 64 KiB
		// and a 1 KiB chunk, signed on 2013-05-24 with the documentation's example key.
		const server = await startS3TestServer({
			accessKeyId: "AKIAIOSFODNN7EXAMPLE",
			secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
			buckets: ["examplebucket"],
			maxClockSkewMs: 100 * 365 * 24 * 3600_000,
		});
		const chunk = (size: number, signature: string) =>
			Buffer.concat([
				Buffer.from(`${size.toString(16)};chunk-signature=${signature}\r\n`),
				Buffer.alloc(size, "a"),
				Buffer.from("\r\n"),
			]);
		const body = (tamper: boolean) => {
			const first = chunk(
				65536,
				"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
			);
			if (tamper) first[first.length - 3] = 0x62;
			return Buffer.concat([
				first,
				chunk(1024, "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"),
				chunk(0, "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"),
			]);
		};
		const put = (payload: Buffer) =>
			new Promise<{ status: number; text: string }>((resolve, reject) => {
				const req = request(
					`${server.url}/examplebucket/chunkObject.txt`,
					{
						method: "PUT",
						headers: {
							host: "s3.amazonaws.com",
							"x-amz-date": "20130524T000000Z",
							"x-amz-storage-class": "REDUCED_REDUNDANCY",
							authorization:
								"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
							"x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
							"content-encoding": "aws-chunked",
							"x-amz-decoded-content-length": "66560",
							"content-length": String(payload.length),
						},
					},
					(res) => {
						let text = "";
						res.on("data", (d) => {
							text += d;
						});
						res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
					},
				);
				req.on("error", reject);
				req.end(payload);
			});
		try {
			expect(body(false).length).toBe(66824);
			const tampered = await put(body(true));
			expect(tampered.status).toBe(403);
			expect(tampered.text).toContain("SignatureDoesNotMatch");
			expect(server.store.buckets.get("examplebucket")?.get("chunkObject.txt")).toBeUndefined();
			const ok = await put(body(false));
			expect(ok.status).toBe(200);
			const stored = server.store.buckets.get("examplebucket")?.get("chunkObject.txt");
			expect(stored?.data.equals(Buffer.alloc(66560, "a"))).toBe(true);
			expect(stored?.storageClass).toBe("REDUCED_REDUNDANCY");
		} finally {
			await server.close();
		}
	});
});

describe("presigned URLs", () => {
	it("GET and HEAD URLs work when fetched for real", async () => {
		await t.s3.send(
			new PutObjectCommand({
				Bucket: BUCKET,
				Key: "presigned/blob",
				Body: Buffer.from("presigned!"),
			}),
		);
		const get = await getSignedUrl(
			t.s3,
			new GetObjectCommand({ Bucket: BUCKET, Key: "presigned/blob" }),
			{ expiresIn: 60 },
		);
		const res = await fetch(get);
		expect(res.status).toBe(200);
		expect(await res.text()).toBe("presigned!");
		const head = await getSignedUrl(
			t.s3,
			new HeadObjectCommand({ Bucket: BUCKET, Key: "presigned/blob" }),
			{ expiresIn: 60 },
		);
		const h = await fetch(head, { method: "HEAD" });
		expect(h.status).toBe(200);
		expect(h.headers.get("content-length")).toBe("10");
		// A GET URL does not authorise a HEAD (the method is signed).
		expect((await fetch(get, { method: "HEAD" })).status).toBe(403);
	});

	it("a tampered URL is SignatureDoesNotMatch, an expired one AccessDenied", async () => {
		await t.s3.send(
			new PutObjectCommand({ Bucket: BUCKET, Key: "presigned/other", Body: Buffer.from("secret") }),
		);
		const url = await getSignedUrl(
			t.s3,
			new GetObjectCommand({ Bucket: BUCKET, Key: "presigned/blob" }),
			{ expiresIn: 60 },
		);
		const otherKey = await fetch(url.replace("presigned/blob", "presigned/other"));
		expect(otherKey.status).toBe(403);
		expect(await codeOf(otherKey)).toBe("SignatureDoesNotMatch");
		const longer = await fetch(url.replace("X-Amz-Expires=60", "X-Amz-Expires=600"));
		expect(longer.status).toBe(403);
		expect(await codeOf(longer)).toBe("SignatureDoesNotMatch");
		const expired = await getSignedUrl(
			t.s3,
			new GetObjectCommand({ Bucket: BUCKET, Key: "presigned/blob" }),
			{
				expiresIn: 1,
				signingDate: new Date(Date.now() - 10_000),
			},
		);
		const res = await fetch(expired);
		expect(res.status).toBe(403);
		const text = await res.text();
		expect(text).toContain("<Code>AccessDenied</Code>");
		expect(text).toContain("Request has expired");
		const wrongSecret = client(t.server, { secretAccessKey: "nope" });
		const forged = await getSignedUrl(
			wrongSecret,
			new GetObjectCommand({ Bucket: BUCKET, Key: "presigned/blob" }),
			{ expiresIn: 60 },
		);
		expect((await fetch(forged)).status).toBe(403);
		wrongSecret.destroy();
	});
});
