/**
 * Azurite's blob service (a devDependency of the registry) for the scale-out tests over Azure:
 * loopback, a free port, in-memory, stopped by pid.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "./replicas.js";

/** Azurite's fixed development account (documented by Microsoft, not a secret). */
export const AZURITE_ACCOUNT = "devstoreaccount1";
export const AZURITE_KEY =
	"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

const BIN = resolve(import.meta.dirname, "../../node_modules/.bin/azurite-blob");

export interface Azurite {
	serviceUrl: string;
	stop(): Promise<void>;
}

export async function startAzurite(): Promise<Azurite> {
	if (!existsSync(BIN)) throw new Error(`Azurite is missing at ${BIN}: run pnpm install`);
	const port = await freePort();
	const child: ChildProcess = spawn(
		BIN,
		[
			"--blobHost",
			"127.0.0.1",
			"--blobPort",
			String(port),
			"--inMemoryPersistence",
			"--skipApiVersionCheck",
			"--disableTelemetry",
			"--silent",
		],
		{ stdio: ["ignore", "pipe", "pipe"] },
	);
	let output = "";
	child.stdout?.on("data", (c) => {
		output += c;
	});
	child.stderr?.on("data", (c) => {
		output += c;
	});
	const serviceUrl = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
	const deadline = Date.now() + 30_000;
	for (;;) {
		if (child.exitCode !== null) throw new Error(`Azurite exited:\n${output}`);
		try {
			const res = await fetch(`${serviceUrl}?comp=list`, { signal: AbortSignal.timeout(1000) });
			if (res.headers.get("server")?.includes("Azurite")) break;
		} catch {
			// not yet
		}
		if (Date.now() > deadline) {
			child.kill("SIGKILL");
			throw new Error(`Azurite did not start:\n${output}`);
		}
		await sleep(100);
	}
	return {
		serviceUrl,
		stop: () =>
			new Promise<void>((done) => {
				if (child.exitCode !== null) return done();
				child.once("exit", () => done());
				child.kill("SIGTERM");
			}),
	};
}
