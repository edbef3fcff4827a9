/**
 * The side-by-side benchmark in smoke mode (tiny sizes, one round, seconds), so the harness
 * cannot rot: it must start both registries, run every workload on both and report numbers.
 * Under CI a missing docker-registry or skopeo fails the suite; elsewhere it is skipped with a
 * message.
 */
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const TOOLS = ["docker-registry", "skopeo"];
const missing = TOOLS.filter((t) => spawnSync("sh", ["-c", `command -v ${t}`]).status !== 0);
const inCI = Boolean(process.env.CI) && process.env.CI !== "false";
const harness = fileURLToPath(new URL("../src/registries.mjs", import.meta.url));

if (missing.length > 0 && !inCI) {
	console.warn(
		`\n*** registry benchmark smoke test SKIPPED: ${missing.join(", ")} not installed ` +
			"(apt-get install -y docker-registry skopeo) ***\n",
	);
}

describe("benchmark tools are installed", () => {
	it.runIf(inCI)("docker-registry and skopeo are on PATH (required under CI)", () => {
		expect(missing, `missing: ${missing.join(", ")}`).toEqual([]);
	});
});

describe.skipIf(missing.length > 0)("registry benchmark, smoke mode", () => {
	it("runs every workload on Stowage and Distribution and reports numbers", async () => {
		const out = mkdtempSync(join(tmpdir(), "stowage-bench-smoke-"));
		try {
			await new Promise((resolve, reject) => {
				execFile(
					process.execPath,
					[harness, "--smoke", "--out", out],
					{ timeout: 150_000, maxBuffer: 4 << 20 },
					(err, _stdout, stderr) =>
						err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(),
				);
			});
			const report = JSON.parse(readFileSync(join(out, "registries.json"), "utf8"));
			const ids = report.workloads.map((w) => w.id);
			expect(ids).toEqual([
				"push-monolithic",
				"push-single-post",
				"push-chunked",
				"push-streamed",
				"get",
				"head",
				"small-blobs",
				"manifests",
				"skopeo-push",
				"skopeo-pull",
			]);
			const positive = (x) => typeof x === "number" && Number.isFinite(x) && x > 0;
			for (const w of report.workloads) {
				expect(positive(w.stowage?.median), `${w.id}: Stowage`).toBe(true);
				expect(positive(w.stowage.peakRssMiB), `${w.id}: Stowage RSS`).toBe(true);
				// Distribution 2.8 has no single-request push; everything else it runs.
				if (w.id === "push-single-post") continue;
				expect(positive(w.distribution?.median), `${w.id}: Distribution`).toBe(true);
				expect(positive(w.distribution.peakRssMiB), `${w.id}: Distribution RSS`).toBe(true);
				expect(positive(w.ratio), `${w.id}: ratio`).toBe(true);
			}
			const head = report.workloads.find((w) => w.id === "head");
			for (const side of [head.stowage, head.distribution]) {
				expect(side.p50).toBeGreaterThanOrEqual(0);
				expect(side.p99).toBeGreaterThanOrEqual(side.p50);
			}
			expect(positive(report.machine.diskWriteMiBps.median)).toBe(true);
			expect(positive(report.machine.sha256MiBps.median)).toBe(true);
			expect(readFileSync(join(out, "registries.md"), "utf8")).toContain("| push-monolithic |");
			expect(readFileSync(join(out, "registries.svg"), "utf8")).toMatch(/^<svg[\s\S]*<\/svg>\n$/);
		} finally {
			rmSync(out, { recursive: true, force: true });
		}
	}, 180_000);
});
