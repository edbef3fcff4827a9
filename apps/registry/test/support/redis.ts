export { inCI } from "./ci.js";

/**
 * The Redis the replica tests coordinate through: a throwaway redis-server from Debian. Under CI
 * a missing one fails the suite; elsewhere the tests that need it are skipped with a message.
 */
import { spawnSync } from "node:child_process";
import { inCI } from "./ci.js";

export { type RedisServer, startRedisServer } from "@stowage/lock-redis/testing";

/** Whether redis-server is installed; decided when the test file is collected. */
export function redisInstalled(suite: string): boolean {
	if (spawnSync("redis-server", ["--version"]).status === 0) return true;
	const message = "redis-server is not installed (apt-get install -y redis-server)";
	if (inCI) throw new Error(`${suite}: ${message}; it is required under CI`);
	console.warn(`\n*** ${suite}: the tests that need Redis are SKIPPED: ${message} ***\n`);
	return false;
}
