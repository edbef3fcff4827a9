import { BlobUploadUnknownError, Registry } from "@stowage/core";
import { engineCase } from "./run.js";
import {
	body,
	type EngineDriverFactory,
	type EngineTestFunction,
	randomData,
	type UploadEngineSuiteOptions,
	uniqueName,
} from "./support.js";

const HOUR = 3_600_000;

/** Abandoned uploads are purged by age; younger ones are never touched. */
export function purgeTests(
	test: EngineTestFunction,
	factory: EngineDriverFactory,
	options: UploadEngineSuiteOptions = {},
): void {
	engineCase(
		test,
		factory,
		options,
		"purge removes only uploads older than the age",
		async ({ expect, f }) => {
			let now = new Date(Date.UTC(2026, 0, 1, 12));
			const registry = new Registry({ driver: f.driver, now: () => now });
			const repo = registry.repository(uniqueName("purge"));
			const nested = registry.repository(uniqueName("purge/deeper/still"));
			const old = await repo.uploads.start();
			await repo.uploads.write(old.id, body(randomData(100)));
			const oldNested = await nested.uploads.start();
			await repo.blobs.put(randomData(10));
			now = new Date(now.getTime() + 2 * HOUR);
			const young = await repo.uploads.start();

			const dry = await registry.purgeUploads({ olderThan: HOUR, dryRun: true });
			expect(dry.removed.map((u) => u.id).sort()).toEqual([old.id, oldNested.id].sort());
			expect((await repo.uploads.status(old.id)).offset).toBe(100);

			const real = await registry.purgeUploads({ olderThan: HOUR });
			expect(real.errors).toEqual([]);
			expect(real.removed.map((u) => `${u.repository} ${u.id}`).sort()).toEqual(
				[`${repo.name} ${old.id}`, `${nested.name} ${oldNested.id}`].sort(),
			);
			await expect(repo.uploads.status(old.id)).rejects.toBeInstanceOf(BlobUploadUnknownError);
			expect((await repo.uploads.status(young.id)).offset).toBe(0);
			expect((await registry.purgeUploads({ olderThan: HOUR })).removed).toEqual([]);
		},
	);
}
