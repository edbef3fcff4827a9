import type { Locker } from "@stowage/core";
import type { Logger } from "pino";
import { ConfigError } from "./config.js";
import { isMissingPackage } from "./drivers.js";
import type { RedisSettings } from "./redis-config.js";

export const REDIS_LOCKER_PACKAGE = "@stowage/lock-redis";

export interface LoadedLocker {
	locker: Locker;
	close(): Promise<void>;
}

interface RedisLockerModule {
	RedisLocker: new (
		options: Record<string, unknown>,
	) => Locker & { ready(): Promise<void>; close(): Promise<void> };
}

/**
 * The upload locker the config asks for: Redis when `redis.addr` is set, imported by name like a
 * driver so that a single-process deployment does not carry a Redis client. Undefined means the
 * engine's in-process default. Start-up fails when Redis does not answer.
 */
export async function loadLocker(
	settings: RedisSettings | undefined,
	logger: Logger,
	importer: (specifier: string) => Promise<unknown> = (s) => import(s),
): Promise<LoadedLocker | undefined> {
	if (!settings) return undefined;
	let mod: RedisLockerModule;
	try {
		mod = (await importer(REDIS_LOCKER_PACKAGE)) as RedisLockerModule;
	} catch (err) {
		if (isMissingPackage(err, REDIS_LOCKER_PACKAGE)) {
			throw new ConfigError(
				`redis needs the package ${REDIS_LOCKER_PACKAGE}, which is not installed: add it (pnpm add ${REDIS_LOCKER_PACKAGE})`,
			);
		}
		throw err;
	}
	const log = logger.child({ component: "redis-locker" });
	const locker = new mod.RedisLocker({
		connection: {
			host: settings.host,
			port: settings.port,
			db: settings.db,
			connectTimeout: settings.dialTimeout,
			commandTimeout: settings.commandTimeout,
			...(settings.username ? { username: settings.username } : {}),
			...(settings.password ? { password: settings.password } : {}),
			...(settings.tls ? { tls: {} } : {}),
		},
		lease: settings.lockLease,
		onError: (err: Error) => log.warn({ err }, "redis locker"),
	});
	try {
		await locker.ready();
	} catch (err) {
		await locker.close();
		throw new ConfigError(`redis at ${settings.host}:${settings.port}: ${(err as Error).message}`);
	}
	return { locker, close: () => locker.close() };
}
