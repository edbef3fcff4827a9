/**
 * Registry processes as deployments run them: the built CLI (`dist/cli.js serve config.yml`) in
 * child processes, each with its own config, killed and restarted by pid.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";

export const CLI = resolve(import.meta.dirname, "../../dist/cli.js");

export function requireBuiltCli(): void {
	if (!existsSync(CLI)) {
		throw new Error(`${CLI} is missing: build first (pnpm --filter @stowage/registry build)`);
	}
}

export function freePort(): Promise<number> {
	return new Promise((done, fail) => {
		const s = createServer();
		s.once("error", fail);
		s.listen(0, "127.0.0.1", () => {
			const port = (s.address() as { port: number }).port;
			s.close(() => done(port));
		});
	});
}

export interface ReplicaOptions {
	/** Directory for this replica's config file. */
	dir: string;
	/** Filesystem driver root, shared by replicas (ignored when `storage` is given). */
	root: string;
	/** Another driver's `storage.<name>` section, e.g. `{ azure: {...} }`. */
	storage?: Record<string, unknown>;
	/** Redis for upload locks; in-process locks when absent. */
	redis?: { host: string; port: number; lease?: string };
	drainTimeout?: string;
	/** Extra top-level config sections, merged over the defaults. */
	extra?: Record<string, unknown>;
}

export interface Replica {
	readonly url: string;
	readonly port: number;
	readonly configPath: string;
	/** Pid of the running process (changes on restart). */
	pid(): number;
	running(): boolean;
	/** Everything the current process wrote to stdout and stderr. */
	output(): string;
	/** Send a signal and wait for the process to exit; resolves with its exit code or signal. */
	stop(signal?: NodeJS.Signals): Promise<number | string>;
	/** Start again on the same port and wait until it answers. */
	start(): Promise<void>;
	/** Resolves when the current process exits. */
	exited(): Promise<number | string>;
}

export async function startReplica(options: ReplicaOptions): Promise<Replica> {
	requireBuiltCli();
	await mkdir(options.dir, { recursive: true });
	const port = await freePort();
	const config = {
		version: 0.1,
		log: { level: "warn", accesslog: { disabled: true } },
		http: { addr: `127.0.0.1:${port}`, draintimeout: options.drainTimeout ?? "2s" },
		storage: {
			...(options.storage ?? { filesystem: { rootdirectory: options.root } }),
			maintenance: { uploadpurging: { enabled: false } },
		},
		...(options.redis
			? {
					redis: {
						addr: `${options.redis.host}:${options.redis.port}`,
						locklease: options.redis.lease ?? "3s",
					},
				}
			: {}),
		...options.extra,
	};
	const configPath = join(options.dir, `replica-${port}.yml`);
	// JSON is YAML.
	await writeFile(configPath, JSON.stringify(config, null, 2));
	const url = `http://127.0.0.1:${port}`;

	let child: ChildProcess | undefined;
	let out = "";
	let exit: Promise<number | string> = Promise.resolve("never started");

	const launch = async () => {
		out = "";
		const proc = spawn(process.execPath, [CLI, "serve", configPath], {
			env: {
				PATH: process.env.PATH ?? "",
				STOWAGE_REQUIRE_NATIVE_HASH: process.env.STOWAGE_REQUIRE_NATIVE_HASH ?? "",
			},
			stdio: ["ignore", "pipe", "pipe"],
		});
		child = proc;
		proc.stdout?.on("data", (c) => {
			out += c;
		});
		proc.stderr?.on("data", (c) => {
			out += c;
		});
		exit = new Promise((done) => proc.once("exit", (code, signal) => done(code ?? signal ?? "?")));
		const deadline = Date.now() + 20_000;
		for (;;) {
			if (proc.exitCode !== null || proc.signalCode !== null) {
				throw new Error(`replica on port ${port} exited at start:\n${out}`);
			}
			if (await answers(url)) return;
			if (Date.now() > deadline) throw new Error(`replica on port ${port} did not start:\n${out}`);
			await sleep(25);
		}
	};

	await launch();
	return {
		url,
		port,
		configPath,
		pid: () => child?.pid ?? -1,
		running: () => child !== undefined && child.exitCode === null && child.signalCode === null,
		output: () => out,
		exited: () => exit,
		async stop(signal = "SIGTERM") {
			const proc = child;
			if (!proc || proc.exitCode !== null || proc.signalCode !== null) return exit;
			proc.kill(signal);
			return exit;
		},
		start: launch,
	};
}

async function answers(url: string): Promise<boolean> {
	try {
		const res = await request(`${url}/v2/`, { headersTimeout: 2000, bodyTimeout: 2000 });
		await res.body.dump();
		return res.statusCode === 200;
	} catch {
		return false;
	}
}

/** Resident memory of a process, in bytes (Linux). */
export function rssOf(pid: number): number {
	const status = readFileSync(`/proc/${pid}/status`, "utf8");
	const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
	return Number(kb) * 1024;
}
