import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { tmpdir } from "node:os";

/**
 * A throwaway redis-server for tests (Debian: `apt-get install -y redis-server`): a free port on
 * 127.0.0.1, no persistence, stopped by its pid.
 */
export interface RedisServer {
	readonly host: string;
	readonly port: number;
	readonly pid: number;
	stop(): Promise<void>;
}

export class RedisServerMissingError extends Error {
	override name = "RedisServerMissingError";
}

export async function startRedisServer(binary = "redis-server"): Promise<RedisServer> {
	let lastError: unknown;
	// A port found free can be taken before the server binds it: try a few.
	for (let attempt = 0; attempt < 3; attempt++) {
		try {
			return await launch(binary, await freePort());
		} catch (err) {
			if (err instanceof RedisServerMissingError) throw err;
			lastError = err;
		}
	}
	throw lastError;
}

async function launch(binary: string, port: number): Promise<RedisServer> {
	const child = spawn(
		binary,
		[
			"--port",
			String(port),
			"--bind",
			"127.0.0.1",
			"--save",
			"",
			"--appendonly",
			"no",
			"--dir",
			tmpdir(),
		],
		{ stdio: ["ignore", "pipe", "pipe"] },
	);
	let output = "";
	await new Promise<void>((resolve, reject) => {
		const timer = setTimeout(() => {
			child.kill("SIGKILL");
			reject(new Error(`redis-server did not start within 10 s:\n${output}`));
		}, 10_000);
		const onData = (chunk: Buffer) => {
			output += chunk;
			if (output.includes("Ready to accept connections")) {
				clearTimeout(timer);
				resolve();
			}
		};
		child.stdout?.on("data", onData);
		child.stderr?.on("data", onData);
		child.once("error", (err: NodeJS.ErrnoException) => {
			clearTimeout(timer);
			reject(
				err.code === "ENOENT"
					? new RedisServerMissingError(
							`${binary} is not installed (apt-get install -y redis-server)`,
						)
					: err,
			);
		});
		child.once("exit", (code) => {
			clearTimeout(timer);
			reject(new Error(`redis-server exited with ${code}:\n${output}`));
		});
	});
	child.stdout?.removeAllListeners("data").resume();
	child.stderr?.removeAllListeners("data").resume();
	return { host: "127.0.0.1", port, pid: child.pid as number, stop: () => stop(child) };
}

function stop(child: ChildProcess): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
	return new Promise((resolve) => {
		const force = setTimeout(() => child.kill("SIGKILL"), 3000);
		child.once("exit", () => {
			clearTimeout(force);
			resolve();
		});
		child.kill("SIGTERM");
	});
}

function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once("error", reject);
		server.listen(0, "127.0.0.1", () => {
			const { port } = server.address() as { port: number };
			server.close(() => resolve(port));
		});
	});
}
