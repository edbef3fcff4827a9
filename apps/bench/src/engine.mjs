// Engine benchmark: 1 GiB through the upload engine on the fs driver, next to the machine's
// limits measured in the same run (raw fs write with fdatasync, node:crypto SHA-256). Each case
// runs in its own child process so its peak RSS is its own.
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const MiB = 1024 * 1024;
// STOWAGE_BENCH_SMOKE=1: tiny sizes, one round, nothing written to bench-results.
const SMOKE = process.env.STOWAGE_BENCH_SMOKE === "1";
const TOTAL = Number(process.env.STOWAGE_BENCH_MB ?? (SMOKE ? 8 : 1024)) * MiB;
const ROUNDS = Number(process.env.STOWAGE_BENCH_ROUNDS ?? (SMOKE ? 1 : 3));
const BLOCK = randomBytes(16 * MiB);

/** Bytes [from, to) of an endless repetition of BLOCK, in chunks of at most `size`. */
function* pattern(from, to, size) {
	for (let off = from; off < to; ) {
		const start = off % BLOCK.length;
		const n = Math.min(size, to - off, BLOCK.length - start);
		yield BLOCK.subarray(start, start + n);
		off += n;
	}
}

function* chunks(total, size) {
	yield* pattern(0, total, size);
}

function digestOf(total) {
	const h = createHash("sha256");
	for (const c of chunks(total, 16 * MiB)) h.update(c);
	return `sha256:${h.digest("hex")}`;
}

/** A request body delivering bytes [from, to) in chunks of `size`, as a socket would. */
async function* body(from, to, size) {
	yield* pattern(from, to, size);
}

const cases = {
	async "disk-write"(dir) {
		const t = performance.now();
		const fh = await open(join(dir, "raw"), "w");
		for (const c of chunks(TOTAL, 16 * MiB)) await fh.write(c);
		await fh.datasync();
		await fh.close();
		return { seconds: (performance.now() - t) / 1000, bytes: TOTAL };
	},
	async sha256() {
		const t = performance.now();
		const h = createHash("sha256");
		for (const c of chunks(TOTAL, 16 * MiB)) h.update(c);
		h.digest();
		return { seconds: (performance.now() - t) / 1000, bytes: TOTAL };
	},
	// The same writes with a resumable SHA-256 running beside them, no engine: on a 2-core machine
	// the page-cache copy and the hash compete for the CPUs, so this is the attainable ceiling.
	async "write+hash-ceiling"(dir) {
		const { createHash: resumable } = await import("@stowage/sha-state");
		const h = resumable("sha256");
		const t = performance.now();
		const fh = await open(join(dir, "raw"), "w");
		let off = 0;
		for (const c of chunks(TOTAL, 16 * MiB)) {
			const pending = fh.write(c, 0, c.length, off);
			h.update(c);
			await pending;
			off += c.length;
		}
		await fh.datasync();
		await fh.close();
		return { seconds: (performance.now() - t) / 1000, bytes: TOTAL };
	},
	async "engine-1MiB-writes"(dir) {
		return upload(dir, TOTAL, MiB, 1);
	},
	async "engine-16MiB-writes"(dir) {
		return upload(dir, TOTAL, 16 * MiB, 1);
	},
	async "engine-64-resumed-chunks"(dir) {
		return upload(dir, TOTAL, MiB, 64);
	},
	async "commit-1MiB"(dir) {
		return upload(dir, MiB, MiB, 1);
	},
};

/** Upload `total` bytes in `requests` separate write calls (each a resume), body chunks of `size`. */
async function upload(dir, total, size, requests) {
	const { Registry } = await import("@stowage/core");
	const { createFsDriver } = await import("@stowage/driver-fs");
	const registry = new Registry({ driver: createFsDriver({ rootDirectory: dir }) });
	const repo = registry.repository("bench/blob");
	const digest = digestOf(total);
	const t = performance.now();
	const { id } = await repo.uploads.start();
	const per = Math.ceil(total / requests);
	let offset = 0;
	while (offset < total) {
		const end = Math.min(total, offset + per);
		await repo.uploads.write(id, body(offset, end, size), { offset });
		offset = end;
	}
	const c = performance.now();
	await repo.uploads.commit(id, digest);
	const end = performance.now();
	return { seconds: (end - t) / 1000, commitMs: end - c, bytes: total };
}

async function child(name) {
	const dir = mkdtempSync(join(tmpdir(), "stowage-bench-"));
	try {
		const result = await cases[name](dir);
		result.peakRssMB = process.resourceUsage().maxRSS / 1024;
		process.stdout.write(JSON.stringify(result));
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

function median(xs) {
	const s = [...xs].sort((a, b) => a - b);
	return s[Math.floor(s.length / 2)];
}

async function main() {
	const self = fileURLToPath(import.meta.url);
	const results = {};
	for (let round = 0; round < ROUNDS; round++) {
		for (const name of Object.keys(cases)) {
			const r = spawnSync(process.execPath, [self, name], { encoding: "utf8", maxBuffer: 1 << 20 });
			if (r.status !== 0) throw new Error(`${name} failed: ${r.stderr}`);
			if (!results[name]) results[name] = [];
			results[name].push(JSON.parse(r.stdout));
		}
	}
	const summary = {};
	for (const [name, runs] of Object.entries(results)) {
		const mbps = runs.map((x) => x.bytes / MiB / x.seconds);
		summary[name] = {
			MiBps: median(mbps),
			min: Math.min(...mbps),
			max: Math.max(...mbps),
			commitMs: runs[0].commitMs === undefined ? undefined : median(runs.map((x) => x.commitMs)),
			peakRssMB: Math.max(...runs.map((x) => x.peakRssMB)),
		};
	}
	const limit = Math.min(summary["disk-write"].MiBps, summary.sha256.MiBps);
	const ceiling = summary["write+hash-ceiling"].MiBps;
	const lines = [
		`Engine on the fs driver, ${TOTAL / MiB} MiB, median of ${ROUNDS} (min–max), ${new Date().toISOString().slice(0, 10)}, node ${process.version}`,
		"",
		"| case | MiB/s | of min(disk, sha256) | of write+hash ceiling | commit ms | peak RSS MB |",
		"| --- | --- | --- | --- | --- | --- |",
	];
	for (const [name, s] of Object.entries(summary)) {
		const engine = name.startsWith("engine");
		const ratio = engine ? `${Math.round((100 * s.MiBps) / limit)}%` : "";
		const ofCeiling = engine ? `${Math.round((100 * s.MiBps) / ceiling)}%` : "";
		const mb =
			name === "commit-1MiB"
				? ""
				: `${s.MiBps.toFixed(0)} (${s.min.toFixed(0)}–${s.max.toFixed(0)})`;
		lines.push(
			`| ${name} | ${mb} | ${ratio} | ${ofCeiling} | ${s.commitMs === undefined ? "" : s.commitMs.toFixed(1)} | ${s.peakRssMB.toFixed(0)} |`,
		);
	}
	const table = lines.join("\n");
	console.log(table);
	if (SMOKE) return;
	const out = join(fileURLToPath(new URL("../../..", import.meta.url)), "bench-results");
	mkdirSync(out, { recursive: true });
	writeFileSync(
		join(out, "engine.json"),
		`${JSON.stringify({ date: new Date().toISOString(), total: TOTAL, summary, results }, null, 2)}\n`,
	);
	writeFileSync(join(out, "engine.md"), `${table}\n`);
}

if (process.argv[2]) await child(process.argv[2]);
else await main();
