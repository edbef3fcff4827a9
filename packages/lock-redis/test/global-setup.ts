import type { TestProject } from "vitest/node";
import { type RedisServer, RedisServerMissingError, startRedisServer } from "../src/testing.js";

declare module "vitest" {
	export interface ProvidedContext {
		/** The test redis-server, or null when it is not installed (outside CI only). */
		redis: { host: string; port: number; pid: number } | null;
	}
}

const inCI = Boolean(process.env.CI) && process.env.CI !== "false";

export default async function setup(project: TestProject) {
	let server: RedisServer | undefined;
	try {
		server = await startRedisServer();
	} catch (err) {
		// Under CI a missing server fails the run; elsewhere the Redis tests are skipped, loudly.
		if (!(err instanceof RedisServerMissingError) || inCI) throw err;
		console.warn(`\n*** Redis locker tests SKIPPED: ${err.message} ***\n`);
	}
	project.provide(
		"redis",
		server ? { host: server.host, port: server.port, pid: server.pid } : null,
	);
	return async () => {
		await server?.stop();
	};
}
