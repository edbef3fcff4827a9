/** Collections running back to back while pushes go on: nothing reachable is lost. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFsDriver } from "@stowage/driver-fs";
import { describe, expect, it } from "vitest";
import { pushWhileCollecting } from "./gc-scenario.js";

describe("garbage collection during pushes", () => {
	it("on the filesystem: pushed images stay whole, old garbage goes", async () => {
		const dir = await mkdtemp(join(tmpdir(), "stowage-gc-race-"));
		try {
			const outcome = await pushWhileCollecting(createFsDriver({ rootDirectory: dir }), {
				duration: 4000,
				grace: 1500,
				pushers: 3,
				garbage: 30,
				deleteUntagged: true,
				collectorDelay: 40,
			});
			expect(outcome.failures).toEqual([]);
			expect(outcome.problems).toEqual([]);
			expect(outcome.pushed.length).toBeGreaterThan(20);
			expect(outcome.collections.length).toBeGreaterThan(3);
			const freed = outcome.collections.reduce((n, c) => n + c.blobsDeleted, 0);
			expect(freed).toBeGreaterThan(0);
		} finally {
			await rm(dir, { recursive: true, force: true });
		}
	}, 60_000);
});
