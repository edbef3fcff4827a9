// Stowage side by side with CNCF Distribution 2.8 (Debian's docker-registry): both servers on
// loopback with empty data directories, every workload of issue 4 on both, alternating, for
// several rounds, next to the machine's limits measured in the same run. Writes
// bench-results/registries.{json,md,svg}.
//
//   node src/registries.mjs            full run (1 GiB blobs, 3 rounds, about 4 minutes)
//   node src/registries.mjs --smoke    tiny sizes, 1 round, seconds (the package's test runs it;
//                                      also STOWAGE_BENCH_SMOKE=1); results go to a temp dir
//   --out <dir>  where the results go; --rounds <n>; --only <id,...> and --blob-mb <n> to
//   investigate one workload; STOWAGE_BENCH_PROFILE=<dir>: the Stowage server's CPU profile
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { chart } from "./registries/chart.mjs";
import { MiB, smallBlob } from "./registries/data.mjs";
import { pool, supportsSinglePost } from "./registries/http.mjs";
import { diskWrite, sha256 } from "./registries/limits.mjs";
import { markdown, summarize } from "./registries/report.mjs";
import { startRegistries } from "./registries/servers.mjs";
import { workloads } from "./registries/workloads/index.mjs";

const { values: args } = parseArgs({
	options: {
		smoke: { type: "boolean", default: process.env.STOWAGE_BENCH_SMOKE === "1" },
		out: { type: "string" },
		rounds: { type: "string" },
		// Development aids: a subset of workloads (with what they read) and another blob size.
		only: { type: "string" },
		"blob-mb": { type: "string" },
	},
});

const FULL = {
	blobSize: 1024 * MiB,
	chunks: 64,
	headConcurrency: 32,
	headSeconds: 10,
	smallBlobs: 1000,
	smallBlobSize: 4096,
	manifests: 1000,
	clients: 16,
	imageLayerSize: 50_000_000,
	limitSize: 1024 * MiB,
	rounds: 3,
};
const SMOKE = {
	...FULL,
	blobSize: 8 * MiB,
	headSeconds: 1,
	smallBlobs: 64,
	manifests: 64,
	imageLayerSize: 1_000_000,
	limitSize: 8 * MiB,
	rounds: 1,
};
const cfg = { ...(args.smoke ? SMOKE : FULL) };
if (args.rounds) cfg.rounds = Number(args.rounds);
if (args["blob-mb"]) cfg.blobSize = Number(args["blob-mb"]) * MiB;
const NEEDS = { get: "push-streamed", "skopeo-pull": "skopeo-push" };
const only = args.only?.split(",").flatMap((id) => [id, NEEDS[id]]);
const selected = only ? workloads.filter((w) => only.includes(w.id)) : workloads;

// A smoke run's figures mean nothing: they never replace the published results.
const outDir =
	args.out ??
	(args.smoke
		? join(tmpdir(), "stowage-bench-smoke")
		: fileURLToPath(new URL("../../../bench-results", import.meta.url)));

const log = (...xs) => process.stderr.write(`${xs.join(" ")}\n`);

function distributionVersion() {
	const r = spawnSync("docker-registry", ["--version"], { encoding: "utf8" });
	const m = /v?(\d+\.\d+\.\d+)/.exec(r.stdout ?? "");
	return m ? `Distribution ${m[1]}` : "Distribution";
}

async function main() {
	const started = performance.now();
	const regs = await startRegistries();
	const stopOnSignal = () => {
		regs.stop().finally(() => process.exit(130));
	};
	process.once("SIGINT", stopOnSignal);
	process.once("SIGTERM", stopOnSignal);
	const both = [regs.stowage, regs.distribution];
	const results = Object.fromEntries(
		selected.map((w) => [w.id, { stowage: [], distribution: [] }]),
	);
	// The 1-minute load average at each round's start and at the end: other work on the machine.
	const limits = { disk: [], sha256: [], load: [] };
	try {
		for (const reg of both) {
			reg.pool = pool(reg.base, 1);
			reg.manyPool = pool(reg.base, cfg.clients);
			reg.dropBlob = (digest) => {
				const hex = digest.slice("sha256:".length);
				const dir = join(reg.dataDir, "docker/registry/v2/blobs/sha256", hex.slice(0, 2), hex);
				rmSync(dir, { recursive: true, force: true });
			};
			reg.singlePost = await supportsSinglePost(reg.pool, "bench/probe", smallBlob("probe", 4096));
			for (const w of selected) await w.setup?.(reg, cfg);
		}
		for (let round = 0; round < cfg.rounds; round++) {
			limits.load.push(loadavg()[0]);
			limits.disk.push(await diskWrite(regs.root, cfg.limitSize));
			limits.sha256.push(sha256(cfg.limitSize));
			log(
				`round ${round + 1}/${cfg.rounds}: disk ${limits.disk.at(-1).toFixed(0)} MiB/s, sha256 ${limits.sha256.at(-1).toFixed(0)} MiB/s`,
			);
			// Each round swaps who goes first, so neither always runs right after the other's writes.
			const order = round % 2 === 0 ? both : [...both].reverse();
			const roundState = {};
			for (const w of selected) {
				const state = await w.prepare(round, cfg, roundState, regs.root);
				roundState[w.id] = state;
				for (const reg of order) {
					// Dirty pages of a previous push are written back before, not during, the next run.
					// Before every run, not only pushes: a GET right after the other registry's push
					// (Distribution never fsyncs, so its 1 GiB is still being written back) paid for
					// that writeback in two rounds of three, and only ever on Stowage's side.
					spawnSync("sync");
					reg.meter.begin();
					const r = await w.run(reg, state, cfg);
					const { rssMiB, cpuSeconds } = reg.meter.end();
					results[w.id][reg.key].push(r === null ? null : { ...r, round, rssMiB, cpuSeconds });
					log(
						`  ${w.id.padEnd(17)} ${reg.key.padEnd(12)} ${r === null ? "n/a" : `${r.value.toFixed(r.value >= 100 ? 0 : 2)} ${w.unit}`}  rss ${rssMiB.toFixed(0)} MiB  cpu ${cpuSeconds.toFixed(2)} s`,
					);
				}
				for (const reg of both) await w.cleanup?.(reg, state);
				w.finish?.(state);
			}
		}
		limits.load.push(loadavg()[0]);
	} finally {
		for (const reg of both) {
			await reg.pool?.close();
			await reg.manyPool?.close();
		}
		await regs.stop();
	}
	const summary = summarize({
		workloads: selected,
		results,
		limits,
		meta: {
			date: new Date().toISOString(),
			mode: args.smoke ? "smoke" : "full",
			rounds: cfg.rounds,
			node: process.version,
			cpus: cpus().length,
			distributionVersion: distributionVersion(),
			config: cfg,
			seconds: (performance.now() - started) / 1000,
			note: process.env.STOWAGE_BENCH_NOTE,
		},
	});
	const md = markdown(summary);
	mkdirSync(outDir, { recursive: true });
	writeFileSync(
		join(outDir, "registries.json"),
		`${JSON.stringify({ ...summary, results }, null, 2)}\n`,
	);
	writeFileSync(join(outDir, "registries.md"), md);
	writeFileSync(join(outDir, "registries.svg"), chart(summary));
	process.stdout.write(md);
	log(`${summary.seconds.toFixed(0)} s; results in ${outDir}`);
}

await main();
