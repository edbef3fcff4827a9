import { S3Client } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { createDriver, createS3Driver, S3OptionsError } from "../src/index.js";
import { resolveOptions } from "../src/options.js";
import { BUCKET, guardUnhandled, MiB, pattern, readAll, useStrictServer } from "./support.js";

const s = useStrictServer();
guardUnhandled();

describe("options: Distribution's storage.s3 keys", () => {
	it("a config.yml section, values as strings (as environment overrides give them), works as is", async () => {
		const o = s.options();
		const d = createS3Driver({
			bucket: BUCKET,
			region: "us-east-1",
			regionendpoint: s.server.url.replace("http://", ""),
			secure: "false",
			forcepathstyle: "true",
			accesskey: o.accesskey as string,
			secretkey: o.secretkey as string,
			rootdirectory: `/${o.rootdirectory}/registry/`,
			chunksize: "5242880",
			multipartcopychunksize: "33554432",
			multipartcopymaxconcurrency: "100",
			multipartcopythresholdsize: "33554432",
			storageclass: "REDUCED_REDUNDANCY",
			encrypt: "true",
			keyid: "arn:aws:kms:us-east-1:123456789012:key/test",
			v4auth: "true",
			loglevel: "off",
			objectacl: "private",
		} as never);
		const w = await d.writer("/docker/registry/v2/blob");
		await w.write(pattern(6 * MiB));
		await w.commit();
		await d.putContent("/docker/registry/v2/small", pattern(3));
		const bucket = s.server.store.buckets.get(BUCKET);
		for (const name of ["blob", "small"]) {
			const stored = bucket?.get(`${o.rootdirectory}/registry/docker/registry/v2/${name}`);
			expect(stored?.storageClass).toBe("REDUCED_REDUNDANCY");
			expect(stored?.sse).toEqual({
				algorithm: "aws:kms",
				kmsKeyId: "arn:aws:kms:us-east-1:123456789012:key/test",
			});
		}
		expect(
			(await readAll(await d.reader("/docker/registry/v2/blob"))).equals(pattern(6 * MiB)),
		).toBe(true);
		expect(d.capabilities).toEqual({
			redirect: true,
			serverSideMove: true,
			minPartSize: 5 * MiB,
			inProcess: false,
		});
		expect(createDriver).toBe(createS3Driver);
	});

	it("defaults follow Distribution", () => {
		const r = resolveOptions({ bucket: "b", region: "eu-west-1" });
		expect(r).toMatchObject({
			chunkSize: 10 * MiB,
			copyChunkSize: 32 * MiB,
			copyThreshold: 32 * MiB,
			copyMaxConcurrency: 100,
			storageClass: "STANDARD",
			encryption: {},
			rootDirectory: "",
			forcePathStyle: false,
			endpoint: undefined,
			credentials: undefined,
			redirectExpiry: 1200,
		});
		expect(resolveOptions({ bucket: "b", region: "r", encrypt: true }).encryption).toEqual({
			ServerSideEncryption: "AES256",
		});
		expect(
			resolveOptions({ bucket: "b", region: "r", storageclass: "NONE" }).storageClass,
		).toBeUndefined();
		expect(
			resolveOptions({ bucket: "b", regionendpoint: "minio:9000", secure: false }).endpoint,
		).toBe("http://minio:9000");
		expect(resolveOptions({ bucket: "b", regionendpoint: "minio:9000" })).toMatchObject({
			endpoint: "https://minio:9000",
			region: "us-east-1",
		});
	});

	it("invalid settings are refused with a message naming the key", () => {
		const bad: [Record<string, unknown>, RegExp][] = [
			[{ region: "r" }, /bucket is required/],
			[{ bucket: "b" }, /region is required/],
			[{ bucket: "b", region: "r", chunksize: 1024 }, /chunksize must be between 5242880/],
			[{ bucket: "b", region: "r", chunksize: "ten" }, /chunksize must be an integer/],
			[{ bucket: "b", region: "r", v4auth: "false" }, /v4auth/],
			[{ bucket: "b", region: "r", accesskey: "a" }, /accesskey and secretkey/],
			[{ bucket: "b", region: "r", storageclass: "GLACIER" }, /storageclass/],
			[{ bucket: "b", region: "r", secure: "maybe" }, /secure must be a boolean/],
		];
		for (const [options, message] of bad) {
			expect(() => createS3Driver(options as never)).toThrow(S3OptionsError);
			expect(() => createS3Driver(options as never)).toThrow(message);
		}
	});

	it("an injected S3Client is used as is", async () => {
		const o = s.options();
		const client = new S3Client({
			endpoint: s.server.url,
			region: "us-east-1",
			forcePathStyle: true,
			credentials: { accessKeyId: o.accesskey as string, secretAccessKey: o.secretkey as string },
			requestChecksumCalculation: "WHEN_REQUIRED",
		});
		let sent = 0;
		client.middlewareStack.add(
			(next) => (args) => {
				sent++;
				return next(args);
			},
			{ step: "build", name: "count" },
		);
		const d = createS3Driver({
			bucket: BUCKET,
			region: "us-east-1",
			client,
			rootdirectory: o.rootdirectory as string,
		});
		await d.putContent("/injected", pattern(5));
		expect((await d.getContent("/injected")).length).toBe(5);
		expect(sent).toBe(2);
		client.destroy();
	});
});
