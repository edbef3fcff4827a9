import type { SectionTools } from "./security-config.js";

/**
 * The operator's sections, after config.ts has checked every key's type: Distribution's debug
 * server (`http.debug`) with its Prometheus endpoint, and Stowage's scheduled garbage collection
 * (`storage.maintenance.garbagecollect`, an extension: Distribution only collects offline).
 */

export interface DebugSettings {
	host: string;
	port: number;
	/** `http.debug.prometheus`: serve metrics at `path` on the debug address. */
	prometheus: { enabled: boolean; path: string };
}

export interface CollectorSettings {
	enabled: boolean;
	/** In ms. */
	interval: number;
	/** In ms: what is younger than this is never collected. */
	grace: number;
	deleteUntagged: boolean;
	dryRun: boolean;
}

export function debugSettings(
	{ get, fail }: SectionTools,
	parseAddr: (addr: string) => { host: string; port: number } | undefined,
): DebugSettings | undefined {
	const addr = get("http", "debug", "addr");
	const enabled = get("http", "debug", "prometheus", "enabled") === true;
	if (addr === undefined) {
		if (enabled)
			fail("http.debug.prometheus.enabled needs http.debug.addr: where to serve metrics");
		return undefined;
	}
	const bound = parseAddr(addr as string);
	if (!bound) return fail(`http.debug.addr: expected host:port, got ${JSON.stringify(addr)}`);
	const path = (get("http", "debug", "prometheus", "path") as string | undefined) ?? "/metrics";
	if (!/^\/[A-Za-z0-9._~/-]*$/.test(path)) {
		fail(
			`http.debug.prometheus.path: expected a path such as /metrics, got ${JSON.stringify(path)}`,
		);
	}
	return { ...bound, prometheus: { enabled, path } };
}

export function collectorSettings({ get, duration }: SectionTools): CollectorSettings {
	const at = (key: string) => get("storage", "maintenance", "garbagecollect", key);
	return {
		enabled: at("enabled") === true,
		interval: duration(at("interval"), "24h"),
		grace: duration(at("grace"), "1h"),
		deleteUntagged: at("deleteuntagged") === true,
		dryRun: at("dryrun") === true,
	};
}
