/** `stowage garbage-collect`, `stowage purge-uploads` and the help texts, as users run them. */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Registry } from "@stowage/core";
import { createFsDriver } from "@stowage/driver-fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blobPath, pushBlob, pushImage } from "./gc-fixtures.js";

const CLI = resolve(import.meta.dirname, "../dist/cli.js");
let dir: string;

beforeAll(async () => {
	if (!existsSync(CLI)) {
		throw new Error(`${CLI} is missing: build first (pnpm --filter @stowage/registry build)`);
	}
	dir = await mkdtemp(join(tmpdir(), "stowage-cli-gc-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function cli(args: string[], env: Record<string, string> = {}) {
	return spawnSync(process.execPath, [CLI, ...args], {
		cwd: dir,
		env: { PATH: process.env.PATH ?? "", ...env },
		encoding: "utf8",
		timeout: 30_000,
	});
}

/** JSON log lines of a run's stdout. */
function lines(stdout: string): Record<string, any>[] {
	return stdout
		.split("\n")
		.filter((l) => l.startsWith("{"))
		.map((l) => JSON.parse(l));
}

describe("stowage help", () => {
	it("--help lists every command; each command has its own help", () => {
		const top = cli(["--help"]);
		expect(top.status).toBe(0);
		for (const command of ["serve", "garbage-collect", "purge-uploads"]) {
			expect(top.stdout).toContain(command);
			const own = cli([command, "--help"]);
			expect(own.status).toBe(0);
			expect(own.stdout).toMatch(new RegExp(`^usage: stowage ${command} `));
			expect(cli(["help", command]).stdout).toBe(own.stdout);
		}
		const gc = cli(["garbage-collect", "-h"]).stdout;
		for (const flag of ["--dry-run", "--delete-untagged", "--grace", "--quiet"]) {
			expect(gc).toContain(flag);
		}
		expect(cli(["purge-uploads", "--help"]).stdout).toContain("--older-than");
	});

	it("a flag of another command is refused with that command's help", () => {
		const r = cli(["serve", "--delete-untagged"]);
		expect(r.status).toBe(2);
		expect(r.stderr).toMatch(/--delete-untagged is not a flag of this command/);
		expect(r.stderr).toContain("usage: stowage serve");
		expect(cli(["garbage-collect", "--grace", "soon", "--root", dir]).stderr).toMatch(
			/--grace: expected a duration/,
		);
	});
});

describe("stowage garbage-collect", () => {
	it("--dry-run lists what would go, the run deletes it, with progress lines", async () => {
		const root = join(dir, "gc");
		const registry = new Registry({ driver: createFsDriver({ rootDirectory: root }) });
		const repo = registry.repository("lib/app");
		const image = await pushImage(repo, ["kept layer"], { tag: "v1" });
		const orphan = await pushBlob(repo, "orphan layer");
		await new Promise((r) => setTimeout(r, 20));
		const env = { STOWAGE_PROGRESS_INTERVAL_MS: "1" };

		const dry = cli(["garbage-collect", "--root", root, "--dry-run", "--grace", "0s"], env);
		expect(dry.status, dry.stderr).toBe(0);
		const dryLines = lines(dry.stdout);
		expect(dryLines).toContainEqual(
			expect.objectContaining({ msg: "would delete blob", digest: orphan.digest }),
		);
		// Not a terminal here: progress comes as log lines, one per phase at least.
		const phases = new Set(dryLines.filter((l) => l.phase).map((l) => l.phase));
		expect(phases).toEqual(new Set(["mark", "untagged", "sweep", "done"]));
		const drySummary = dryLines.at(-1);
		expect(drySummary).toMatchObject({ dryRun: true, blobsDeleted: 1, bytesFreed: orphan.size });
		expect(existsSync(join(root, blobPath(orphan.digest)))).toBe(true);

		const run = cli(["garbage-collect", "--root", root, "--grace", "0s", "--quiet"], env);
		expect(run.status, run.stderr).toBe(0);
		const runLines = lines(run.stdout);
		expect(runLines).toHaveLength(1);
		expect(runLines[0]).toMatchObject({ msg: "garbage collection done", blobsDeleted: 1 });
		expect(existsSync(join(root, blobPath(orphan.digest)))).toBe(false);
		expect(existsSync(join(root, blobPath(image.digest)))).toBe(true);
	});

	it("keeps young blobs by default (grace 1h) and honours --delete-untagged", async () => {
		const root = join(dir, "gc-untagged");
		const registry = new Registry({ driver: createFsDriver({ rootDirectory: root }) });
		const repo = registry.repository("app");
		const old = await pushImage(repo, ["old"], { tag: "v1" });
		await pushImage(repo, ["new"], { tag: "v1" });
		await new Promise((r) => setTimeout(r, 20));

		const young = cli(["garbage-collect", "--root", root, "--delete-untagged", "--quiet"]);
		expect(lines(young.stdout).at(-1)).toMatchObject({ manifestsDeleted: 0, blobsDeleted: 0 });

		const r = cli(["garbage-collect", "--root", root, "--delete-untagged", "--grace", "0s", "-q"]);
		expect(r.status, r.stderr).toBe(0);
		expect(lines(r.stdout).at(-1)).toMatchObject({ manifestsDeleted: 1, blobsDeleted: 3 });
		expect(existsSync(join(root, blobPath(old.digest)))).toBe(false);
	});
});

describe("stowage purge-uploads", () => {
	it("reports progress without a terminal, and --dry-run removes nothing", async () => {
		const root = join(dir, "purge");
		const registry = new Registry({ driver: createFsDriver({ rootDirectory: root }) });
		await registry.repository("a").uploads.start();
		await registry.repository("b").uploads.start();
		const env = { STOWAGE_PROGRESS_INTERVAL_MS: "1" };

		const dry = cli(["purge-uploads", "--root", root, "--older-than", "0s", "--dry-run"], env);
		expect(dry.status, dry.stderr).toBe(0);
		const dryLines = lines(dry.stdout);
		expect(dryLines.filter((l) => l.msg === "would purge")).toHaveLength(2);
		expect(dryLines.some((l) => l.phase === "scanning" && l.uploads === 2)).toBe(true);
		expect(dryLines.at(-1)).toMatchObject({ msg: "done", removed: 2, dryRun: true });

		const real = cli(["purge-uploads", "--root", root, "--older-than", "0s", "--quiet"]);
		expect(lines(real.stdout)).toEqual([expect.objectContaining({ msg: "done", removed: 2 })]);
		const again = cli(["purge-uploads", "--root", root, "--older-than", "0s"]);
		expect(lines(again.stdout).at(-1)).toMatchObject({ removed: 0 });
	});
});
