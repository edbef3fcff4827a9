import {
	BlobUnknownError,
	BlobUploadUnknownError,
	DigestInvalidError,
	parseDigest,
	SizeInvalidError,
	UnsupportedDigestError,
} from "@stowage/core";
import { engineCase } from "./run.js";
import {
	body,
	type EngineDriverFactory,
	type EngineTestFunction,
	randomData,
	readAll,
	sha256,
	sha512,
	type UploadEngineSuiteOptions,
	uniqueName,
} from "./support.js";

/** Digest and size verification at commit: a wrong promise makes nothing visible. */
export function verificationTests(
	test: EngineTestFunction,
	factory: EngineDriverFactory,
	options: UploadEngineSuiteOptions = {},
): void {
	const it = (name: string, fn: Parameters<typeof engineCase>[4]) =>
		engineCase(test, factory, options, name, fn);

	it("a wrong digest is refused, nothing becomes visible, the upload is removed", async ({
		expect,
		f,
		registry,
	}) => {
		const repo = registry.repository(uniqueName());
		const data = randomData(4096);
		const wrong = sha256(Buffer.from("something else"));
		const { id } = await repo.uploads.start();
		await repo.uploads.write(id, body(data));
		await expect(repo.uploads.commit(id, wrong)).rejects.toBeInstanceOf(DigestInvalidError);
		await expect(repo.blobs.stat(wrong)).rejects.toBeInstanceOf(BlobUnknownError);
		await expect(repo.blobs.stat(sha256(data))).rejects.toBeInstanceOf(BlobUnknownError);
		await expect(f.driver.stat(registry.layout.blobData(parseDigest(wrong)))).rejects.toThrow();
		await expect(
			f.driver.stat(registry.layout.blobData(parseDigest(sha256(data)))),
		).rejects.toThrow();
		await expect(repo.uploads.status(id)).rejects.toBeInstanceOf(BlobUploadUnknownError);
	});

	it("a malformed or unsupported digest is refused and the upload survives for a retry", async ({
		expect,
		registry,
	}) => {
		const repo = registry.repository(uniqueName());
		const data = randomData(100);
		const { id } = await repo.uploads.start();
		await repo.uploads.write(id, body(data));
		for (const bad of ["", "sha256", "sha256:xyz", `sha256:${"A".repeat(64)}`, "md5:abc:def"]) {
			await expect(repo.uploads.commit(id, bad)).rejects.toBeInstanceOf(DigestInvalidError);
		}
		await expect(repo.uploads.commit(id, `md5:${"a".repeat(32)}`)).rejects.toBeInstanceOf(
			UnsupportedDigestError,
		);
		expect((await repo.uploads.status(id)).offset).toBe(100);
		expect((await repo.uploads.commit(id, sha256(data))).size).toBe(100);
	});

	it("a sha512 digest is verified and addressed as sha512", async ({ expect, registry }) => {
		const repo = registry.repository(uniqueName());
		const data = randomData(70_000);
		const { id } = await repo.uploads.start();
		await repo.uploads.write(id, body(data.subarray(0, 30_000)));
		const desc = await repo.uploads.commit(id, sha512(data), {
			body: body(data.subarray(30_000)),
		});
		expect(desc.digest).toBe(sha512(data));
		expect((await readAll((await repo.blobs.open(sha512(data))).stream)).equals(data)).toBe(true);
	});

	it("a size that disagrees with the bytes is refused", async ({ expect, registry }) => {
		const repo = registry.repository(uniqueName());
		const data = randomData(100);
		const { id } = await repo.uploads.start();
		await repo.uploads.write(id, body(data));
		await expect(repo.uploads.commit(id, sha256(data), { size: 101 })).rejects.toBeInstanceOf(
			SizeInvalidError,
		);
		await expect(repo.blobs.stat(sha256(data))).rejects.toBeInstanceOf(BlobUnknownError);
	});

	it("small content is stored by digest, verified, and refused when the digest lies", async ({
		expect,
		registry,
	}) => {
		const repo = registry.repository(uniqueName());
		const data = Buffer.from('{"hello":"world"}');
		await expect(
			repo.blobs.put(data, { digest: sha256(Buffer.from("other")) }),
		).rejects.toBeInstanceOf(DigestInvalidError);
		const desc = await repo.blobs.put(data, {
			digest: sha256(data),
			mediaType: "application/json",
		});
		expect(desc).toEqual({
			digest: sha256(data),
			size: data.length,
			mediaType: "application/json",
		});
		expect((await readAll((await repo.blobs.open(desc.digest)).stream)).equals(data)).toBe(true);
	});
}
