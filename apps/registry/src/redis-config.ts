/**
 * The `redis` section, Distribution's keys: with `redis.addr` set, upload locks are taken in that
 * Redis, so replicas sharing one storage backend never write one upload at once. Without it each
 * process locks in memory, which is right for a single process.
 */
export interface RedisSettings {
	host: string;
	port: number;
	username?: string;
	password?: string;
	db: number;
	tls: boolean;
	/** `redis.dialtimeout`, in ms. */
	dialTimeout: number;
	/** The longer of `redis.readtimeout` and `redis.writetimeout`, in ms: one command's limit. */
	commandTimeout: number;
	/** `redis.locklease` (a Stowage key), in ms: how long a crashed holder's lock outlives it. */
	lockLease: number;
}

/** What config.ts lends: key lookup, failing start-up, and its checked value parsers. */
interface Tools {
	get(...path: string[]): unknown;
	fail(message: string): never;
	duration(value: unknown, fallback: string): number;
	parseAddr(addr: string): { host: string; port: number } | undefined;
}

export function redisSettings(tools: Tools): RedisSettings | undefined {
	const { get, fail, duration, parseAddr } = tools;
	const section = get("redis");
	if (section === undefined || section === null) return undefined;
	const addr = get("redis", "addr");
	if (typeof addr !== "string") fail("redis.addr is required when a redis section is given");
	const { host, port } = parseAddr(addr as string) ?? fail("redis.addr: expected host:port");
	const username = get("redis", "username") as string | undefined;
	const password = get("redis", "password") as string | undefined;
	const lockLease = duration(get("redis", "locklease"), "10s");
	if (lockLease < 1000) fail("redis.locklease: expected at least 1s");
	return {
		host,
		port,
		...(username ? { username } : {}),
		...(password ? { password } : {}),
		db: (get("redis", "db") as number | undefined) ?? 0,
		tls: get("redis", "tls", "enabled") === true,
		dialTimeout: duration(get("redis", "dialtimeout"), "5s"),
		commandTimeout: Math.max(
			duration(get("redis", "readtimeout"), "2s"),
			duration(get("redis", "writetimeout"), "2s"),
		),
		lockLease,
	};
}
