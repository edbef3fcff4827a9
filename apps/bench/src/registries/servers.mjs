// Starts Stowage and Distribution side by side on loopback ports, each on its own empty data
// directory, and tracks each server process's peak RSS per workload.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const STOWAGE_CLI = fileURLToPath(new URL("../../../registry/dist/cli.js", import.meta.url));

/** Is `cmd` on PATH? */
export function onPath(cmd) {
	return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

async function freePort() {
	return new Promise((resolve, reject) => {
		const s = createServer();
		s.once("error", reject);
		s.listen(0, "127.0.0.1", () => {
			const { port } = s.address();
			s.close(() => resolve(port));
		});
	});
}

/** The same config file for both: both read Distribution's keys. */
function configYaml(port, dataDir) {
	return [
		"version: 0.1",
		"log:",
		"  level: error",
		"  accesslog:",
		"    disabled: true",
		"http:",
		`  addr: 127.0.0.1:${port}`,
		"storage:",
		"  filesystem:",
		`    rootdirectory: ${dataDir}`,
		"  maintenance:",
		"    uploadpurging:",
		"      enabled: false",
		"",
	].join("\n");
}

function status(pid) {
	try {
		return readFileSync(`/proc/${pid}/status`, "utf8");
	} catch {
		return "";
	}
}

function statusKiB(pid, field) {
	const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status(pid));
	return m ? Number(m[1]) : 0;
}

/** CPU seconds (user + system, all threads) a process has used so far. */
function cpuSeconds(pid) {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
		// Fields after the command name, which may hold spaces: utime and stime are 14 and 15.
		const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
		return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
	} catch {
		return 0;
	}
}
const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout) || 100;

/**
 * Peak RSS and CPU time of one process over a window. Linux resets VmHWM when "5" is written to
 * clear_refs, which gives the exact peak of each workload; where that is refused, VmRSS is
 * sampled instead. CPU seconds are what a workload costs the server whatever else runs on the
 * machine, so they stay comparable when wall-clock figures are noisy.
 */
class ProcessMeter {
	constructor(pid) {
		this.pid = pid;
		this.sampled = 0;
		this.timer = undefined;
	}

	begin() {
		try {
			writeFileSync(`/proc/${this.pid}/clear_refs`, "5");
			this.exact = true;
		} catch {
			this.exact = false;
		}
		this.sampled = statusKiB(this.pid, "VmRSS");
		this.cpuAtStart = cpuSeconds(this.pid);
		this.timer = setInterval(() => {
			this.sampled = Math.max(this.sampled, statusKiB(this.pid, "VmRSS"));
		}, 50);
		this.timer.unref();
	}

	/** { rssMiB, cpuSeconds } over the window. */
	end() {
		clearInterval(this.timer);
		const rss = statusKiB(this.pid, "VmRSS");
		const hwm = this.exact ? statusKiB(this.pid, "VmHWM") : 0;
		return {
			rssMiB: Math.max(this.sampled, rss, hwm) / 1024,
			cpuSeconds: cpuSeconds(this.pid) - this.cpuAtStart,
		};
	}
}

async function waitReady(base, child, name, log) {
	const deadline = Date.now() + 20_000;
	while (Date.now() < deadline) {
		if (child.exitCode !== null) break;
		try {
			const res = await fetch(`${base}/v2/`);
			await res.arrayBuffer();
			if (res.status === 200) return;
		} catch {
			// not listening yet
		}
		await new Promise((r) => setTimeout(r, 50));
	}
	throw new Error(`${name} did not start at ${base}: ${log()}`);
}

/**
 * One registry process. `key` is "stowage" or "distribution".
 * Returns { key, name, base, dataDir, pid, meter, stop() }.
 */
async function startOne(key, root) {
	const port = await freePort();
	const dir = mkdtempSync(join(root, `${key}-`));
	const dataDir = join(dir, "data");
	const configPath = join(dir, "config.yml");
	writeFileSync(configPath, configYaml(port, dataDir));
	const [cmd, args, name] =
		key === "stowage"
			? [process.execPath, [...profileFlags(), STOWAGE_CLI, "serve", configPath], "Stowage"]
			: ["docker-registry", ["serve", configPath], "Distribution 2.8"];
	const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
	let output = "";
	const keep = (b) => {
		output = (output + b.toString()).slice(-4000);
	};
	child.stdout.on("data", keep);
	child.stderr.on("data", keep);
	const exited = new Promise((resolve) => child.once("exit", resolve));
	const base = `http://127.0.0.1:${port}`;
	const stop = async () => {
		if (child.exitCode === null && child.signalCode === null) {
			child.kill("SIGTERM");
			const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
			await exited;
			clearTimeout(timer);
		}
		if (!process.env.STOWAGE_BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
	};
	try {
		await waitReady(base, child, name, () => output);
	} catch (err) {
		await stop();
		throw err;
	}
	return {
		key,
		name,
		base,
		dataDir,
		dir,
		pid: child.pid,
		meter: new ProcessMeter(child.pid),
		stop,
	};
}

/** `STOWAGE_BENCH_PROFILE=dir`: the Stowage server writes a CPU profile there when it stops. */
function profileFlags() {
	const dir = process.env.STOWAGE_BENCH_PROFILE;
	return dir ? ["--cpu-prof", `--cpu-prof-dir=${dir}`] : [];
}

/** Both registries; `stop()` ends both processes and removes their data. */
export async function startRegistries() {
	if (!existsSync(STOWAGE_CLI)) {
		throw new Error(`${STOWAGE_CLI} is missing: build the server first (pnpm build)`);
	}
	if (!onPath("docker-registry")) {
		throw new Error(
			"docker-registry (CNCF Distribution) is not installed: apt-get install -y docker-registry",
		);
	}
	const root = mkdtempSync(join(tmpdir(), "stowage-bench-registries-"));
	const started = [];
	const stop = async () => {
		await Promise.all(started.map((r) => r.stop()));
		rmSync(root, { recursive: true, force: true });
	};
	try {
		started.push(await startOne("stowage", root));
		started.push(await startOne("distribution", root));
	} catch (err) {
		await stop();
		throw err;
	}
	return { stowage: started[0], distribution: started[1], root, stop };
}
