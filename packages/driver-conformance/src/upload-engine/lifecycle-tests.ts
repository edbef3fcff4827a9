import {
	BlobUnknownError,
	BlobUploadUnknownError,
	NameInvalidError,
	RangeInvalidError,
	SizeInvalidError,
} from "@stowage/core";
import { engineCase } from "./run.js";
import {
	body,
	brokenBody,
	type EngineDriverFactory,
	type EngineTestFunction,
	randomData,
	readAll,
	sha256,
	type UploadEngineSuiteOptions,
	uniqueName,
} from "./support.js";

/** Start, write, status, commit, read back, cancel: the upload lifecycle of one process. */
export function lifecycleTests(
	test: EngineTestFunction,
	factory: EngineDriverFactory,
	options: UploadEngineSuiteOptions = {},
): void {
	const it = (name: string, fn: Parameters<typeof engineCase>[4]) =>
		engineCase(test, factory, options, name, fn);

	it("a new upload starts at offset 0 and reports its start time", async ({ expect, registry }) => {
		const repo = registry.repository(uniqueName());
		const before = Date.now() - 1000;
		const started = await repo.uploads.start();
		expect(started.offset).toBe(0);
		const status = await repo.uploads.status(started.id);
		expect(status.offset).toBe(0);
		expect(status.id).toBe(started.id);
		expect(status.startedAt.getTime()).toBeGreaterThanOrEqual(before);
	});

	it("a monolithic upload commits, reads back and the session is gone", async ({
		expect,
		registry,
	}) => {
		const repo = registry.repository(uniqueName());
		const data = randomData(100_000);
		const { id } = await repo.uploads.start();
		const after = await repo.uploads.write(id, body(data), { offset: 0, length: data.length });
		expect(after.offset).toBe(data.length);
		const desc = await repo.uploads.commit(id, sha256(data));
		expect(desc).toMatchObject({ digest: sha256(data), size: data.length });
		expect(await repo.blobs.stat(sha256(data))).toMatchObject({ size: data.length });
		expect((await readAll((await repo.blobs.open(sha256(data))).stream)).equals(data)).toBe(true);
		await expect(repo.uploads.status(id)).rejects.toBeInstanceOf(BlobUploadUnknownError);
	});

	it("chunks append in order; a chunk at the wrong offset is refused with the current offset", async ({
		expect,
		registry,
	}) => {
		const repo = registry.repository(uniqueName());
		const data = randomData(3000);
		const { id } = await repo.uploads.start();
		await repo.uploads.write(id, body(data.subarray(0, 1000)), { offset: 0 });
		const err = await repo.uploads
			.write(id, body(data.subarray(2000)), { offset: 2000 })
			.catch((e: unknown) => e);
		expect(err).toBeInstanceOf(RangeInvalidError);
		expect((err as RangeInvalidError).offset).toBe(1000);
		expect((await repo.uploads.status(id)).offset).toBe(1000);
		await repo.uploads.write(id, body(data.subarray(1000, 2000)), { offset: 1000 });
		const desc = await repo.uploads.commit(id, sha256(data), {
			body: body(data.subarray(2000)),
			offset: 2000,
		});
		expect(desc.size).toBe(3000);
		expect((await readAll((await repo.blobs.open(desc.digest)).stream)).equals(data)).toBe(true);
	});

	it("a body longer or shorter than its declared length is a size error", async ({
		expect,
		registry,
	}) => {
		const repo = registry.repository(uniqueName());
		const { id } = await repo.uploads.start();
		await expect(
			repo.uploads.write(id, body(randomData(10)), { length: 11 }),
		).rejects.toBeInstanceOf(SizeInvalidError);
		const at = (await repo.uploads.status(id)).offset;
		await expect(
			repo.uploads.write(id, body(randomData(10)), { offset: at, length: 9 }),
		).rejects.toBeInstanceOf(SizeInvalidError);
	});

	it("a client that disconnects mid-body keeps what arrived and resumes from there", async ({
		expect,
		registry,
	}) => {
		const repo = registry.repository(uniqueName());
		const data = randomData(50_000);
		const { id } = await repo.uploads.start();
		await expect(repo.uploads.write(id, brokenBody(data.subarray(0, 20_000)))).rejects.toThrow(
			"client went away",
		);
		const { offset } = await repo.uploads.status(id);
		expect(offset).toBe(20_000);
		await repo.uploads.write(id, body(data.subarray(offset)), { offset });
		const desc = await repo.uploads.commit(id, sha256(data));
		expect(desc.size).toBe(data.length);
	});

	it("an empty blob uploads and reads back empty", async ({ expect, registry }) => {
		const repo = registry.repository(uniqueName());
		const empty = Buffer.alloc(0);
		const { id } = await repo.uploads.start();
		const desc = await repo.uploads.commit(id, sha256(empty));
		expect(desc.size).toBe(0);
		expect((await readAll((await repo.blobs.open(desc.digest)).stream)).length).toBe(0);
	});

	it("cancel removes the session; unknown and malformed ids are unknown uploads", async ({
		expect,
		registry,
	}) => {
		const repo = registry.repository(uniqueName());
		const { id } = await repo.uploads.start();
		await repo.uploads.write(id, body(randomData(10)));
		await repo.uploads.cancel(id);
		await expect(repo.uploads.status(id)).rejects.toBeInstanceOf(BlobUploadUnknownError);
		await expect(repo.uploads.cancel(id)).rejects.toBeInstanceOf(BlobUploadUnknownError);
		for (const bad of [
			"00000000-0000-4000-8000-000000000000",
			"../x",
			"a/b",
			"",
			"x".repeat(200),
		]) {
			await expect(repo.uploads.status(bad)).rejects.toBeInstanceOf(BlobUploadUnknownError);
			await expect(repo.uploads.write(bad, body(randomData(1)))).rejects.toBeInstanceOf(
				BlobUploadUnknownError,
			);
		}
	});

	it("ranged reads return exactly the requested bytes", async ({ expect, registry }) => {
		const repo = registry.repository(uniqueName());
		const data = randomData(10_000);
		const desc = await repo.blobs.put(data);
		const part = await readAll(
			(await repo.blobs.open(desc.digest, { offset: 100, length: 50 })).stream,
		);
		expect(part.equals(data.subarray(100, 150))).toBe(true);
		const tail = await readAll((await repo.blobs.open(desc.digest, { offset: 9_990 })).stream);
		expect(tail.equals(data.subarray(9_990))).toBe(true);
		const past = await readAll((await repo.blobs.open(desc.digest, { offset: 20_000 })).stream);
		expect(past.length).toBe(0);
	});

	it("repository names outside the OCI grammar are refused", async ({ expect, registry }) => {
		for (const bad of [
			"",
			"UPPER",
			"a//b",
			"/a",
			"a/",
			"a/_uploads",
			"a..b",
			"-a",
			"a".repeat(256),
		]) {
			expect(() => registry.repository(bad)).toThrow(NameInvalidError);
		}
		expect(registry.repository("library/ubuntu").name).toBe("library/ubuntu");
		await expect(
			registry.repository("a/b").blobs.stat(sha256(Buffer.from("x"))),
		).rejects.toBeInstanceOf(BlobUnknownError);
	});
}
