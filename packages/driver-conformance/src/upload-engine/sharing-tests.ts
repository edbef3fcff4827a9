import { BlobUnknownError, parseDigest, UploadConflictError } from "@stowage/core";
import { engineCase } from "./run.js";
import {
	body,
	type EngineDriverFactory,
	type EngineTestFunction,
	randomData,
	readAll,
	sha256,
	type UploadEngineSuiteOptions,
	uniqueName,
} from "./support.js";

/** Links, mounts, deletes, and what concurrent requests may and may not do to each other. */
export function sharingTests(
	test: EngineTestFunction,
	factory: EngineDriverFactory,
	options: UploadEngineSuiteOptions = {},
): void {
	const it = (name: string, fn: Parameters<typeof engineCase>[4]) =>
		engineCase(test, factory, options, name, fn);

	it("a blob is visible only in repositories that link it; mount links without copying", async ({
		expect,
		f,
		registry,
	}) => {
		const a = registry.repository(uniqueName("a"));
		const b = registry.repository(uniqueName("b"));
		const data = randomData(2048);
		const desc = await a.blobs.put(data);
		await expect(b.blobs.stat(desc.digest)).rejects.toBeInstanceOf(BlobUnknownError);
		expect(await b.blobs.mount(sha256(randomData(8)), a.name)).toBeUndefined();
		expect(await b.blobs.mount(desc.digest, "NOT/valid")).toBeUndefined();
		const blobPath = registry.layout.blobData(parseDigest(desc.digest));
		const before = await f.driver.stat(blobPath);
		expect(await b.blobs.mount(desc.digest, a.name)).toMatchObject({ size: 2048 });
		expect((await readAll((await b.blobs.open(desc.digest)).stream)).equals(data)).toBe(true);
		expect((await f.driver.stat(blobPath)).modTime.getTime()).toBe(before.modTime.getTime());
		await b.blobs.delete(desc.digest);
		await expect(b.blobs.stat(desc.digest)).rejects.toBeInstanceOf(BlobUnknownError);
		await expect(b.blobs.delete(desc.digest)).rejects.toBeInstanceOf(BlobUnknownError);
		expect((await a.blobs.stat(desc.digest)).size).toBe(2048);
	});

	it("a link whose bytes are gone does not claim the blob exists", async ({
		expect,
		f,
		registry,
	}) => {
		const repo = registry.repository(uniqueName());
		const desc = await repo.blobs.put(randomData(64));
		await f.driver.delete(registry.layout.blobDir(parseDigest(desc.digest)));
		await expect(repo.blobs.stat(desc.digest)).rejects.toBeInstanceOf(BlobUnknownError);
		await expect(repo.blobs.open(desc.digest)).rejects.toBeInstanceOf(BlobUnknownError);
	});

	it("two uploads of the same content both commit and leave one blob", async ({
		expect,
		f,
		registry,
	}) => {
		const data = randomData(300_000);
		const repos = [registry.repository(uniqueName()), registry.repository(uniqueName())];
		const results = await Promise.all(
			repos.map(async (repo) => {
				const { id } = await repo.uploads.start();
				await repo.uploads.write(id, body(data.subarray(0, 150_000)));
				return repo.uploads.commit(id, sha256(data), { body: body(data.subarray(150_000)) });
			}),
		);
		expect(results.map((r) => r.digest)).toEqual([sha256(data), sha256(data)]);
		const d = parseDigest(sha256(data));
		expect(await f.driver.list(registry.layout.blobDir(d))).toEqual([registry.layout.blobData(d)]);
		for (const repo of repos) {
			expect((await readAll((await repo.blobs.open(d.digest)).stream)).equals(data)).toBe(true);
		}
	});

	it("concurrent writes to one upload never interleave: the second gets a conflict", async ({
		expect,
		registry,
	}) => {
		const repo = registry.repository(uniqueName());
		const { id } = await repo.uploads.start();
		const first = randomData(64 * 1024);
		const second = randomData(64 * 1024);
		let release!: () => void;
		const gate = new Promise<void>((r) => {
			release = r;
		});
		async function* slow(): AsyncGenerator<Uint8Array> {
			yield first.subarray(0, 1024);
			await gate;
			yield first.subarray(1024);
		}
		const winner = repo.uploads.write(id, slow(), { offset: 0 });
		await new Promise((r) => setTimeout(r, 50));
		await expect(repo.uploads.write(id, body(second), { offset: 0 })).rejects.toBeInstanceOf(
			UploadConflictError,
		);
		await expect(repo.uploads.commit(id, sha256(second))).rejects.toBeInstanceOf(
			UploadConflictError,
		);
		release();
		expect((await winner).offset).toBe(first.length);
		expect((await repo.uploads.commit(id, sha256(first))).size).toBe(first.length);
	});
}
