import { Registry } from "@stowage/core";
import { engineCase } from "./run.js";
import {
	body,
	countingReads,
	type EngineDriverFactory,
	type EngineTestFunction,
	randomData,
	readAll,
	sha256,
	type UploadEngineSuiteOptions,
	uniqueName,
} from "./support.js";

/**
 * Resuming across engine instances and the resumable digest: commit must verify from the saved
 * digest state, reading bytes back only where no state covers them.
 */
export function resumeTests(
	test: EngineTestFunction,
	factory: EngineDriverFactory,
	options: UploadEngineSuiteOptions = {},
): void {
	const it = (name: string, fn: Parameters<typeof engineCase>[4]) =>
		engineCase(test, factory, options, name, fn);
	const large = options.largeChunkSize ?? 10 * 1024 * 1024;

	for (const [label, chunk, count] of [
		["32-byte", 32, 40],
		[`${large}-byte`, large, 3],
	] as const) {
		it(`${label} chunks alternate between two engine instances and commit without a re-read`, async ({
			expect,
			f,
		}) => {
			const name = uniqueName();
			const data = randomData(chunk * count + 7);
			const a = countingReads(f.driver);
			const one = new Registry({ driver: a.driver });
			const two = await f.other();
			const { id } = await one.repository(name).uploads.start();
			let offset = 0;
			let turn = 0;
			while (offset < data.length) {
				const engine = turn++ % 2 === 0 ? one : two;
				const piece = data.subarray(offset, offset + chunk);
				const status = await engine.repository(name).uploads.write(id, body(piece), { offset });
				offset = status.offset;
			}
			expect((await two.repository(name).uploads.status(id)).offset).toBe(data.length);
			const desc = await one.repository(name).uploads.commit(id, sha256(data));
			expect(desc.size).toBe(data.length);
			expect(a.reads.filter((r) => r.path.includes("/_uploads/"))).toEqual([]);
			const back = await readAll((await two.repository(name).blobs.open(desc.digest)).stream);
			expect(back.equals(data)).toBe(true);
		});
	}

	it("without any saved digest state, commit hashes the bytes back and still verifies", async ({
		expect,
		f,
		registry,
	}) => {
		const name = uniqueName();
		const repo = registry.repository(name);
		const data = randomData(5000);
		const { id } = await repo.uploads.start();
		await repo.uploads.write(id, body(data.subarray(0, 2000)));
		await repo.uploads.write(id, body(data.subarray(2000)), { offset: 2000 });
		await f.driver.delete(`${registry.layout.upload(name, id)}/hashstates`);
		const desc = await repo.uploads.commit(id, sha256(data));
		expect(desc.size).toBe(5000);
	});

	it("with only an older state, commit reads back only the bytes after it", async ({
		expect,
		f,
	}) => {
		const name = uniqueName();
		const counted = countingReads(f.driver);
		const registry = new Registry({ driver: counted.driver });
		const repo = registry.repository(name);
		const data = randomData(6000);
		const { id } = await repo.uploads.start();
		await repo.uploads.write(id, body(data.subarray(0, 2000)));
		await repo.uploads.write(id, body(data.subarray(2000, 4000)), { offset: 2000 });
		await repo.uploads.write(id, body(data.subarray(4000)), { offset: 4000 });
		const states = registry.layout.uploadHashStates(name, id, "sha256");
		await f.driver.delete(`${states}/6000`);
		// A corrupt state is as good as none: the engine must step back past it.
		await f.driver.putContent(`${states}/4000`, Buffer.from("not a hash state"));
		const desc = await repo.uploads.commit(id, sha256(data));
		expect(desc.size).toBe(6000);
		const uploadReads = counted.reads.filter((r) => r.path.includes("/_uploads/"));
		expect(uploadReads.map((r) => r.offset)).toEqual([2000]);
	});

	it("a write after a lost state keeps going and the commit still verifies", async ({
		expect,
		f,
		registry,
	}) => {
		const name = uniqueName();
		const repo = registry.repository(name);
		const data = randomData(3000);
		const { id } = await repo.uploads.start();
		await repo.uploads.write(id, body(data.subarray(0, 1000)));
		await f.driver.delete(`${registry.layout.upload(name, id)}/hashstates`);
		await repo.uploads.write(id, body(data.subarray(1000, 2000)), { offset: 1000 });
		await repo.uploads.write(id, body(data.subarray(2000)), { offset: 2000 });
		expect((await repo.uploads.commit(id, sha256(data))).size).toBe(3000);
	});
}
