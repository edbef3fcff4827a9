/**
 * Crash torture (see support/torture.ts). The test command runs the short mode; the long mode,
 * at least 100 kills, is `pnpm --filter @stowage/registry torture` (STOWAGE_TORTURE_KILLS sets
 * the count, STOWAGE_TORTURE_REPORT a file for the JSON results).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runTorture } from "./support/torture.js";

const kills = Number(process.env.STOWAGE_TORTURE_KILLS ?? 12);
const long = kills > 12;
let dir: string;

beforeAll(async () => {
	dir = await mkdtemp(join(tmpdir(), "stowage-torture-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

it(
	`SIGKILL ${kills} times mid-PATCH, mid-commit and mid-manifest: nothing acknowledged is lost or corrupt`,
	async () => {
		const result = await runTorture({
			dir,
			kills,
			clients: 3,
			maxLayer: long ? 4 * 1024 * 1024 : 1536 * 1024,
			log: long ? (line) => console.log(line) : undefined,
		});
		const summary = JSON.stringify({ ...result, failures: result.failures.length }, null, 2);
		console.log(`torture results:\n${summary}`);
		if (process.env.STOWAGE_TORTURE_REPORT) {
			await writeFile(process.env.STOWAGE_TORTURE_REPORT, `${JSON.stringify(result, null, 2)}\n`);
		}
		expect(result.failures).toEqual([]);
		expect(result.images).toBeGreaterThan(0);
		expect(result.killsDuring.patch + result.killsDuring.commit).toBeGreaterThan(0);
		expect(result.stats.resumes).toBeGreaterThan(0);
	},
	long ? 60 * 60_000 : 120_000,
);
