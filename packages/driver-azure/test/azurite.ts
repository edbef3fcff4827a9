import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

/** Azurite's fixed development account (documented by Microsoft, not a secret). */
export const AZURITE_ACCOUNT = "devstoreaccount1";
export const AZURITE_KEY =
	"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/** This package's devDependency; `pnpm install` puts it there. */
export const AZURITE_BIN = fileURLToPath(
	new URL("../node_modules/.bin/azurite-blob", import.meta.url),
);

export interface AzuriteOptions {
	/** Keep data in this directory (survives a restart); default in memory. */
	location?: string;
	/** Default: a free port. */
	port?: number;
}

export interface Azurite {
	readonly port: number;
	readonly serviceUrl: string;
	readonly connectionString: string;
	/** SIGTERM (Azurite flushes and exits) and wait for the exit. */
	stop(): Promise<void>;
}

export function connectionStringFor(serviceUrl: string): string {
	return [
		"DefaultEndpointsProtocol=http",
		`AccountName=${AZURITE_ACCOUNT}`,
		`AccountKey=${AZURITE_KEY}`,
		`BlobEndpoint=${serviceUrl};`,
	].join(";");
}

export async function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.on("error", reject);
		server.listen(0, "127.0.0.1", () => {
			const address = server.address();
			server.close(() => {
				if (address && typeof address === "object") resolve(address.port);
				else reject(new Error("no port"));
			});
		});
	});
}

/**
 * Start Azurite's blob service on loopback with the flags it needs against a current SDK
 * (`--skipApiVersionCheck`) and without reaching out (`--disableTelemetry`), and wait until it
 * answers HTTP. Fails loudly, with Azurite's own output, when it cannot start.
 */
export async function startAzurite(options: AzuriteOptions = {}): Promise<Azurite> {
	if (!existsSync(AZURITE_BIN)) {
		throw new Error(
			`Azurite is not installed at ${AZURITE_BIN}: run \`pnpm install\` (azurite is a devDependency of @stowage/driver-azure)`,
		);
	}
	if (options.port !== undefined) return startOn(options.port, options);
	// A free port can be taken by someone else before Azurite binds it: try another.
	for (let attempt = 1; ; attempt++) {
		try {
			return await startOn(await freePort(), options);
		} catch (err) {
			if (attempt >= 3) throw err;
		}
	}
}

async function startOn(port: number, options: AzuriteOptions): Promise<Azurite> {
	const storage = options.location ? ["--location", options.location] : ["--inMemoryPersistence"];
	const args = [
		"--blobHost",
		"127.0.0.1",
		"--blobPort",
		String(port),
		...storage,
		"--skipApiVersionCheck",
		"--disableTelemetry",
		"--silent",
	];
	const child = spawn(AZURITE_BIN, args, { stdio: ["ignore", "pipe", "pipe"] });
	let output = "";
	child.stdout?.on("data", (d: Buffer) => {
		output += d.toString();
	});
	child.stderr?.on("data", (d: Buffer) => {
		output += d.toString();
	});
	const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
	const serviceUrl = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
	try {
		await waitUntilAnswering(serviceUrl, child, exited, 30_000);
	} catch (err) {
		child.kill("SIGKILL");
		throw new Error(
			`Azurite did not start (${(err as Error).message}).\nCommand: ${AZURITE_BIN} ${args.join(" ")}\nOutput:\n${output}`,
		);
	}
	return {
		port,
		serviceUrl,
		connectionString: connectionStringFor(serviceUrl),
		stop: () => stopProcess(child, exited),
	};
}

async function waitUntilAnswering(
	url: string,
	child: ChildProcess,
	exited: Promise<number | null>,
	timeoutMs: number,
): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	let done = false;
	const early = exited.then((code) => {
		if (!done) throw new Error(`it exited with code ${code}`);
	});
	early.catch(() => undefined);
	while (Date.now() < deadline) {
		if (child.exitCode !== null) await early;
		try {
			// Any answer from Azurite (403 for an unsigned request) means it is serving; another
			// server that took the port first does not count.
			const res = await fetch(`${url}?comp=list`, { signal: AbortSignal.timeout(1000) });
			if (res.headers.get("server")?.includes("Azurite")) {
				done = true;
				return;
			}
			await new Promise((r) => setTimeout(r, 100));
		} catch {
			await new Promise((r) => setTimeout(r, 100));
		}
	}
	if (child.exitCode !== null) await early;
	throw new Error(`no answer on ${url} within ${timeoutMs} ms`);
}

async function stopProcess(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) return;
	child.kill("SIGTERM");
	const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
	await exited;
	clearTimeout(timer);
}
