// HEAD of one blob at concurrency 32 for a fixed time. ApacheBench (`ab -i -k`, C, one core)
// drives it when installed, so the client costs the server little CPU; otherwise undici does.
import { spawn } from "node:child_process";
import { smallBlob } from "../data.mjs";
import { call, pool, pushMonolithic } from "../http.mjs";
import { onPath } from "../servers.mjs";

const REPO = "bench/head";

function runAb(url, concurrency, seconds) {
	// -n after -t: -t alone caps the run at 50000 requests.
	const args = ["-i", "-k", "-q", "-c", String(concurrency), "-t", String(seconds)];
	args.push("-n", "100000000", "-s", "30", url);
	return new Promise((resolve, reject) => {
		const child = spawn("ab", args, { stdio: ["ignore", "pipe", "pipe"] });
		let out = "";
		child.stdout.on("data", (b) => {
			out += b;
		});
		child.stderr.on("data", (b) => {
			out += b;
		});
		child.once("error", reject);
		child.once("exit", (code) => {
			const num = (re) => {
				const m = re.exec(out);
				return m ? Number(m[1]) : undefined;
			};
			const rps = num(/Requests per second:\s+([\d.]+)/);
			const failed = num(/Failed requests:\s+(\d+)/) ?? 0;
			const non2xx = num(/Non-2xx responses:\s+(\d+)/) ?? 0;
			if (code !== 0 || rps === undefined || failed > 0 || non2xx > 0) {
				reject(new Error(`ab failed (exit ${code}, ${failed} failed, ${non2xx} non-2xx): ${out}`));
				return;
			}
			resolve({
				value: rps,
				requests: num(/Complete requests:\s+(\d+)/),
				p50: num(/^\s+50%\s+(\d+)/m),
				p99: num(/^\s+99%\s+(\d+)/m),
				client: "ab",
			});
		});
	});
}

async function runUndici(base, path, concurrency, seconds) {
	const p = pool(base, concurrency);
	const latencies = [];
	const deadline = performance.now() + seconds * 1000;
	const t = performance.now();
	const worker = async () => {
		while (performance.now() < deadline) {
			const s = performance.now();
			await call(p, "HEAD", path, { expect: 200 });
			latencies.push(performance.now() - s);
		}
	};
	await Promise.all(Array.from({ length: concurrency }, worker));
	const ms = performance.now() - t;
	await p.close();
	latencies.sort((a, b) => a - b);
	const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
	return {
		value: latencies.length / (ms / 1000),
		requests: latencies.length,
		p50: at(0.5),
		p99: at(0.99),
		client: "undici",
	};
}

export const head = {
	id: "head",
	title: "HEAD of a blob at concurrency 32",
	unit: "req/s",
	better: "higher",
	async setup(reg) {
		const blob = smallBlob("head", 4096);
		await pushMonolithic(reg.pool, REPO, blob);
		reg.headBlob = blob;
	},
	prepare: () => ({}),
	async run(reg, _state, cfg) {
		const path = `/v2/${REPO}/blobs/${reg.headBlob.digest}`;
		if (onPath("ab") && !process.env.STOWAGE_BENCH_HEAD_UNDICI) {
			return runAb(`${reg.base}${path}`, cfg.headConcurrency, cfg.headSeconds);
		}
		return runUndici(reg.base, path, cfg.headConcurrency, cfg.headSeconds);
	},
};
