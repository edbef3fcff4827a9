import {
	BlobUnknownError,
	BlobUploadUnknownError,
	DigestInvalidError,
	parseDigest,
	Registry,
	StorageDriverError,
} from "@stowage/core";
import type { ExpectStatic } from "vitest";
import { type FaultInjector, faultyDriver } from "./fault-driver.js";
import { type EngineCase, engineCase } from "./run.js";
import {
	body,
	type EngineDriverFactory,
	type EngineFixture,
	type EngineTestFunction,
	randomData,
	readAll,
	sha256,
	type UploadEngineSuiteOptions,
	uniqueName,
} from "./support.js";

/** The engine over the case's driver, with faults injected between them. */
function withFaults(
	f: EngineFixture,
	seed?: number,
): { faults: FaultInjector; registry: Registry } {
	const faults = faultyDriver(f.driver, { seed });
	return { faults, registry: new Registry({ driver: faults.driver }) };
}

/** Every blob under `blobs/` holds exactly the bytes its address names (read past any faults). */
async function expectStoreIntact(expect: ExpectStatic, f: EngineFixture, registry: Registry) {
	const root = `${registry.layout.blobsRoot}/sha256`;
	let checked = 0;
	const prefixes = await f.driver.list(root).catch(() => [] as string[]);
	for (const prefix of prefixes) {
		for (const dir of await f.driver.list(prefix)) {
			const hex = dir.slice(dir.lastIndexOf("/") + 1);
			const bytes = await readAll(await f.driver.reader(`${dir}/data`));
			expect(sha256(bytes), `blob ${hex}`).toBe(`sha256:${hex}`);
			checked++;
		}
	}
	return checked;
}

/**
 * A failing backend: errors before and after an operation took effect, short writes, latency.
 * Whatever fails, the engine answers with the driver's error (a retryable fault for the server),
 * keeps every byte it acknowledged, never links an incomplete or unverified blob, and a retry of
 * the same request completes the upload.
 */
export function faultTests(
	test: EngineTestFunction,
	factory: EngineDriverFactory,
	options: UploadEngineSuiteOptions = {},
): void {
	const it = (name: string, fn: (c: EngineCase) => Promise<void>) =>
		engineCase(test, factory, options, `faults: ${name}`, fn);

	it("a short write keeps what reached the backend; the upload resumes from the reported offset", async ({
		expect,
		f,
	}) => {
		const { faults, registry } = withFaults(f);
		const repo = registry.repository(uniqueName());
		const data = randomData(90_000);
		const { id } = await repo.uploads.start();
		await repo.uploads.write(id, body(data.subarray(0, 30_000)));
		faults.inject({ op: "writer.write", effect: { type: "short-write", bytes: 1000 } });
		await expect(
			repo.uploads.write(id, body(data.subarray(30_000, 60_000)), { offset: 30_000 }),
		).rejects.toBeInstanceOf(StorageDriverError);
		const { offset } = await repo.uploads.status(id);
		expect(offset).toBe(31_000);
		await repo.uploads.write(id, body(data.subarray(offset)), { offset });
		const desc = await repo.uploads.commit(id, sha256(data));
		expect((await readAll((await repo.blobs.open(desc.digest)).stream)).equals(data)).toBe(true);
	});

	it("a failed save of the digest state fails the request but loses no byte", async ({
		expect,
		f,
	}) => {
		const { faults, registry } = withFaults(f);
		const repo = registry.repository(uniqueName());
		const data = randomData(50_000);
		const { id } = await repo.uploads.start();
		faults.inject({ op: "putContent", path: /\/hashstates\//, effect: { type: "error" } });
		await expect(repo.uploads.write(id, body(data))).rejects.toBeInstanceOf(StorageDriverError);
		expect((await repo.uploads.status(id)).offset).toBe(data.length);
		expect((await repo.uploads.commit(id, sha256(data))).size).toBe(data.length);
	});

	it("a backend fault while commit verifies keeps the upload for the retry", async ({
		expect,
		f,
	}) => {
		const { faults, registry } = withFaults(f);
		const name = uniqueName();
		const repo = registry.repository(name);
		const data = randomData(40_000);
		const { id } = await repo.uploads.start();
		await repo.uploads.write(id, body(data));
		// Without the state at the end, commit reads the bytes back: make that read fail.
		await f.driver.delete(registry.layout.uploadHashStates(name, id, "sha256"));
		faults.inject({ op: "reader", path: /\/_uploads\//, effect: { type: "error" } });
		await expect(repo.uploads.commit(id, sha256(data))).rejects.toBeInstanceOf(StorageDriverError);
		await expect(repo.blobs.stat(sha256(data))).rejects.toBeInstanceOf(BlobUnknownError);
		expect((await repo.uploads.status(id)).offset).toBe(data.length);
		expect((await repo.uploads.commit(id, sha256(data))).size).toBe(data.length);
	});

	for (const [label, rule] of [
		["a move that fails", { op: "move", effect: { type: "error" } }],
		["a move that happened but reports failure", { op: "move", effect: { type: "error-after" } }],
		[
			"a link that fails after the move",
			{ op: "putContent", path: /\/_layers\//, effect: { type: "error" } },
		],
		[
			"an upload removal that fails after the link",
			{ op: "delete", path: /\/_uploads\//, effect: { type: "error" } },
		],
	] as const) {
		it(`${label}: the blob is complete or absent, and the retried commit links it`, async ({
			expect,
			f,
		}) => {
			const { faults, registry } = withFaults(f);
			const name = uniqueName();
			const repo = registry.repository(name);
			const data = randomData(70_000);
			const digest = sha256(data);
			const { id } = await repo.uploads.start();
			await repo.uploads.write(id, body(data));
			faults.inject(rule);
			await expect(repo.uploads.commit(id, digest)).rejects.toBeInstanceOf(StorageDriverError);
			// Whatever is at the content address is the whole, verified blob.
			const blob = registry.layout.blobData(parseDigest(digest));
			const stored = await f.driver.reader(blob).then(readAll, () => undefined);
			if (stored) expect(stored.equals(data)).toBe(true);
			// The retry (a client repeating its PUT) finishes the commit.
			const desc = await repo.uploads.commit(id, digest);
			expect(desc).toMatchObject({ digest, size: data.length });
			expect((await readAll((await repo.blobs.open(digest)).stream)).equals(data)).toBe(true);
			await expect(repo.uploads.status(id)).rejects.toBeInstanceOf(BlobUploadUnknownError);
		});
	}

	it("an upload that did not produce a blob cannot claim it by digest", async ({ expect, f }) => {
		const { registry } = withFaults(f);
		const owner = registry.repository(uniqueName());
		const data = randomData(10_000);
		const { digest } = await owner.blobs.put(data);
		const thief = registry.repository(uniqueName());
		const { id } = await thief.uploads.start();
		await expect(thief.uploads.commit(id, digest)).rejects.toBeInstanceOf(DigestInvalidError);
		await expect(thief.blobs.stat(digest)).rejects.toBeInstanceOf(BlobUnknownError);
	});

	it("purge removes what a crash leaves without a readable startedat, by the age of its entries", async ({
		expect,
		f,
	}) => {
		const name = uniqueName();
		const repo = f.registry.repository(name);
		const leftover = await repo.uploads.start();
		await repo.uploads.write(leftover.id, body(randomData(1000)));
		// As a process killed half-way through removing the upload leaves it.
		await f.driver.delete(f.registry.layout.uploadStartedAt(name, leftover.id));
		const live = await repo.uploads.start();
		const HOUR = 3_600_000;
		const now = new Registry({ driver: f.driver });
		expect((await now.purgeUploads({ olderThan: HOUR })).removed).toEqual([]);
		const later = new Registry({ driver: f.driver, now: () => new Date(Date.now() + 2 * HOUR) });
		const { removed, errors } = await later.purgeUploads({ olderThan: HOUR });
		expect(errors).toEqual([]);
		expect(removed.map((u) => u.id).sort()).toEqual([leftover.id, live.id].sort());
		await expect(repo.uploads.status(live.id)).rejects.toBeInstanceOf(BlobUploadUnknownError);
	});

	it("a commit removes its digest states after answering; a failed removal is reported and purged", async ({
		expect,
		f,
	}) => {
		const faults = faultyDriver(f.driver);
		const reported: string[] = [];
		const registry = new Registry({
			driver: faults.driver,
			onAfterResponseError: (_err, what) => reported.push(what),
		});
		const name = uniqueName();
		const repo = registry.repository(name);
		const data = randomData(30_000);
		const commitChunked = async () => {
			const { id } = await repo.uploads.start();
			for (let at = 0; at < data.length; at += 10_000) {
				await repo.uploads.write(id, body(data.subarray(at, at + 10_000)), { offset: at });
			}
			await repo.uploads.commit(id, sha256(data));
			// Unknown from the moment the commit answers, whatever is still being tidied.
			await expect(repo.uploads.status(id)).rejects.toBeInstanceOf(BlobUploadUnknownError);
			return id;
		};
		const uploads = registry.layout.uploadsRoot(name);
		await commitChunked();
		await registry.drain();
		expect(await f.driver.list(uploads).catch(() => [])).toEqual([]);
		expect(reported).toEqual([]);

		// The removal of the upload's directory fails: the commit stands, the failure is reported.
		faults.inject({ op: "delete", path: /\/_uploads\/[^/]+$/, effect: { type: "error" } });
		const id = await commitChunked();
		await registry.drain();
		expect(reported).toEqual([`remove committed upload ${name}/${id}`]);
		expect(await repo.blobs.stat(sha256(data))).toMatchObject({ size: data.length });
		expect(await f.driver.list(uploads)).toEqual([registry.layout.upload(name, id)]);
		const later = new Registry({ driver: f.driver, now: () => new Date(Date.now() + 3_600_000) });
		const { removed } = await later.purgeUploads({ olderThan: 60_000 });
		expect(removed.map((u) => u.id)).toEqual([id]);
		expect(await f.driver.list(uploads).catch(() => [])).toEqual([]);
	});

	it("latency on every call changes nothing", async ({ expect, f }) => {
		const { faults, registry } = withFaults(f);
		faults.inject({
			op: ["writer", "writer.write", "writer.close", "putContent", "getContent", "move"],
			times: Number.POSITIVE_INFINITY,
			effect: { type: "latency", ms: 3 },
		});
		const repo = registry.repository(uniqueName());
		const data = randomData(100_000);
		const { id } = await repo.uploads.start();
		await repo.uploads.write(id, body(data.subarray(0, 50_000)));
		const desc = await repo.uploads.commit(id, sha256(data), {
			body: body(data.subarray(50_000)),
			offset: 50_000,
		});
		expect((await readAll((await repo.blobs.open(desc.digest)).stream)).equals(data)).toBe(true);
	});

	it("random faults on every call: clients that resume all finish, nothing is corrupt", async ({
		expect,
		f,
	}) => {
		const { faults, registry } = withFaults(f, 8);
		faults.inject({
			op: [
				"getContent",
				"putContent",
				"reader",
				"writer",
				"stat",
				"list",
				"move",
				"delete",
				"writer.write",
				"writer.close",
				"writer.commit",
			],
			times: Number.POSITIVE_INFINITY,
			probability: 0.08,
			effect: { type: "error" },
		});
		faults.inject({
			op: ["move", "putContent", "writer.write"],
			times: Number.POSITIVE_INFINITY,
			probability: 0.05,
			effect: { type: "error-after" },
		});
		faults.inject({
			op: "writer.write",
			times: Number.POSITIVE_INFINITY,
			probability: 0.05,
			effect: { type: "short-write" },
		});
		const repo = registry.repository(uniqueName());
		const blobs = Array.from({ length: 6 }, (_, i) => randomData(20_000 + i * 7_000));
		for (const data of blobs) {
			const digest = sha256(data);
			let attempts = 0;
			/** A client: resume from the reported offset after every failure, restart when gone. */
			const push = async (): Promise<void> => {
				const retry = async <T>(fn: () => Promise<T>): Promise<T> => {
					for (;;) {
						try {
							return await fn();
						} catch (err) {
							if (!(err instanceof StorageDriverError) || ++attempts > 200) throw err;
						}
					}
				};
				const { id } = await retry(() => repo.uploads.start());
				for (;;) {
					let offset: number;
					try {
						offset = (await retry(() => repo.uploads.status(id))).offset;
					} catch (err) {
						if (err instanceof BlobUploadUnknownError) return finished();
						throw err;
					}
					const rest = data.subarray(offset);
					const half = Math.ceil(rest.length / 2);
					try {
						if (rest.length > 0 && offset < data.length / 2) {
							await repo.uploads.write(id, body(rest.subarray(0, half), rest.subarray(half)), {
								offset,
							});
							continue;
						}
						await repo.uploads.commit(id, digest, { body: body(rest), offset });
						return;
					} catch (err) {
						// A correct client never sees a digest error, whatever the backend does.
						if (err instanceof BlobUploadUnknownError) return finished();
						if (!(err instanceof StorageDriverError) || ++attempts > 200) throw err;
					}
				}
			};
			/** The upload is gone: a commit whose reply was lost finished it, or it starts over. */
			const finished = async (): Promise<void> => {
				for (;;) {
					try {
						await repo.blobs.stat(digest);
						return;
					} catch (err) {
						if (err instanceof BlobUnknownError) return push();
						if (!(err instanceof StorageDriverError) || ++attempts > 200) throw err;
					}
				}
			};
			await push();
			faults.clear();
			expect((await readAll((await repo.blobs.open(digest)).stream)).equals(data)).toBe(true);
			// Faults again for the next blob.
			faults.inject({
				op: ["putContent", "writer.write", "move", "reader", "list"],
				times: Number.POSITIVE_INFINITY,
				probability: 0.1,
				effect: { type: "error" },
			});
		}
		faults.clear();
		expect(faults.injected.length).toBeGreaterThan(0);
		expect(await expectStoreIntact(expect, f, registry)).toBe(blobs.length);
	});
}
