/** The operator's configuration keys: http.debug and storage.maintenance.garbagecollect. */
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";

const env = (vars: Record<string, string>) => loadConfig(undefined, vars);

describe("http.debug", () => {
	it("is off by default", () => {
		expect(env({}).http.debug).toBeUndefined();
	});

	it("serves metrics at /metrics unless told another path", () => {
		const config = env({
			REGISTRY_HTTP_DEBUG_ADDR: "127.0.0.1:5001",
			REGISTRY_HTTP_DEBUG_PROMETHEUS_ENABLED: "true",
		});
		expect(config.http.debug).toEqual({
			host: "127.0.0.1",
			port: 5001,
			prometheus: { enabled: true, path: "/metrics" },
		});
		const other = env({
			REGISTRY_HTTP_DEBUG_ADDR: ":5001",
			REGISTRY_HTTP_DEBUG_PROMETHEUS_ENABLED: "true",
			REGISTRY_HTTP_DEBUG_PROMETHEUS_PATH: "/internal/metrics",
		});
		expect(other.http.debug?.prometheus.path).toBe("/internal/metrics");
	});

	it("refuses metrics without an address, or a bad address or path", () => {
		expect(() => env({ REGISTRY_HTTP_DEBUG_PROMETHEUS_ENABLED: "true" })).toThrow(
			/http.debug.prometheus.enabled needs http.debug.addr/,
		);
		expect(() => env({ REGISTRY_HTTP_DEBUG_ADDR: "nowhere" })).toThrow(ConfigError);
		expect(() =>
			env({
				REGISTRY_HTTP_DEBUG_ADDR: ":5001",
				REGISTRY_HTTP_DEBUG_PROMETHEUS_PATH: "metrics",
			}),
		).toThrow(/http.debug.prometheus.path/);
	});
});

describe("storage.maintenance.garbagecollect", () => {
	it("is off by default, with a grace period of an hour", () => {
		expect(env({}).storage.garbageCollect).toEqual({
			enabled: false,
			interval: 24 * 3_600_000,
			grace: 3_600_000,
			deleteUntagged: false,
			dryRun: false,
		});
	});

	it("takes every key", () => {
		const config = env({
			REGISTRY_STORAGE_MAINTENANCE_GARBAGECOLLECT_ENABLED: "true",
			REGISTRY_STORAGE_MAINTENANCE_GARBAGECOLLECT_INTERVAL: "6h",
			REGISTRY_STORAGE_MAINTENANCE_GARBAGECOLLECT_GRACE: "30m",
			REGISTRY_STORAGE_MAINTENANCE_GARBAGECOLLECT_DELETEUNTAGGED: "true",
			REGISTRY_STORAGE_MAINTENANCE_GARBAGECOLLECT_DRYRUN: "true",
		});
		expect(config.storage.garbageCollect).toEqual({
			enabled: true,
			interval: 6 * 3_600_000,
			grace: 30 * 60_000,
			deleteUntagged: true,
			dryRun: true,
		});
		expect(config.warnings).toEqual([]);
	});

	it("a bad value names the key", () => {
		expect(() => env({ REGISTRY_STORAGE_MAINTENANCE_GARBAGECOLLECT_GRACE: "soon" })).toThrow(
			/storage.maintenance.garbagecollect.grace: expected a duration/,
		);
	});
});
