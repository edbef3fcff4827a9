import { Registry } from "@stowage/core";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { createAccessGate } from "./auth/index.js";
import type { StowageConfig } from "./config.js";
import { type DebugServer, startDebugServer } from "./debug-server.js";
import { loadDriver } from "./drivers.js";
import { type Collector, startCollector } from "./gc-scheduler.js";
import { loadLocker } from "./lockers.js";
import { createLogger } from "./logger.js";
import { meteredDriver } from "./metered-driver.js";
import { Metrics } from "./metrics.js";
import { type Purger, startUploadPurger } from "./purger.js";
import { createApp } from "./server.js";
import { httpsOptions } from "./tls.js";

export interface RunningServer {
	app: FastifyInstance;
	registry: Registry;
	logger: Logger;
	/** The bound address, e.g. `127.0.0.1:5000`. */
	address: string;
	/** With `http.debug.prometheus.enabled`: the metrics and the debug listener's address. */
	metrics?: Metrics;
	debugAddress?: string;
	/** Stop accepting, let in-flight requests finish (up to http.draintimeout), stop purging. */
	close(): Promise<void>;
}

/** Build everything the config describes and listen. */
export async function serve(
	config: StowageConfig,
	options: { logger?: Logger } = {},
): Promise<RunningServer> {
	const logger = options.logger ?? createLogger(config.log.level, config.log.fields);
	for (const warning of config.warnings) logger.warn(warning);
	// Key files and htpasswd first: a mistake there stops start-up before storage is touched.
	const access = config.auth ? await createAccessGate(config.auth, logger) : undefined;
	const https = config.http.tls ? httpsOptions(config.http.tls) : undefined;
	const driver = await loadDriver(config.storage.driver.name, config.storage.driver.params);
	const locking = await loadLocker(config.redis, logger);
	// Metrics only with a debug address to serve them: otherwise nothing records anything.
	const metrics = config.http.debug?.prometheus.enabled ? new Metrics() : undefined;
	const registry = new Registry({
		driver: metrics ? meteredDriver(driver, metrics) : driver,
		...(locking ? { locker: locking.locker } : {}),
		onAfterResponseError: (err, what) =>
			logger.warn({ err }, `${what} failed; the upload purger removes what is left`),
	});
	const app = createApp({
		...(access ? { access } : {}),
		...(https ? { https } : {}),
		registry,
		...(metrics ? { metrics } : {}),
		logger,
		accessLog: config.log.accessLog,
		headers: config.http.headers,
		deleteEnabled: config.storage.deleteEnabled,
		redirect: config.storage.redirect,
		readOnly: config.storage.readOnly,
		baseUrl: config.http.baseUrl,
		catalogMaxEntries: config.catalog.maxEntries,
	});
	await app.listen({ host: config.http.host, port: config.http.port });
	const bound = app.server.address();
	const address =
		typeof bound === "object" && bound
			? `${bound.family === "IPv6" ? `[${bound.address}]` : bound.address}:${bound.port}`
			: String(bound);

	// Purging writes to storage, so a read-only registry never purges.
	let purger: Purger | undefined;
	const purging = config.storage.uploadPurging;
	if (purging.enabled && !config.storage.readOnly) {
		purger = startUploadPurger(
			registry,
			{
				...purging,
				onRun: (result) => {
					if (!purging.dryRun) metrics?.upload("purged", result.removed.length);
				},
			},
			logger.child({ component: "purger" }),
		);
	}
	// Collections delete, so a read-only registry never collects either.
	let collector: Collector | undefined;
	const gc = config.storage.garbageCollect;
	if (gc.enabled && !config.storage.readOnly) {
		collector = startCollector(registry, gc, logger.child({ component: "gc" }), metrics);
	}
	let debug: DebugServer | undefined;
	const debugConfig = config.http.debug;
	if (metrics && debugConfig) {
		try {
			debug = await startDebugServer({
				host: debugConfig.host,
				port: debugConfig.port,
				path: debugConfig.prometheus.path,
				metrics,
			});
		} catch (err) {
			await Promise.all([purger?.stop(), collector?.stop()]);
			await app.close();
			await locking?.close();
			throw err;
		}
	}
	logger.info(
		{
			address,
			driver: driver.name,
			locker: locking ? "redis" : "memory",
			delete: config.storage.deleteEnabled,
			purging: purging.enabled,
			gc: collector !== undefined,
			...(debug ? { metrics: `http://${debug.address}${debugConfig?.prometheus.path}` } : {}),
			tls: https !== undefined,
			auth: access?.kind ?? "none",
		},
		"stowage registry listening",
	);

	let closing: Promise<void> | undefined;
	const close = () => {
		closing ??= (async () => {
			await Promise.all([purger?.stop(), collector?.stop(), debug?.close()]);
			// Idle keep-alive connections close at once, busy ones as soon as their request is done
			// (Node only closes those idle when close() is called), all of them at the deadline.
			const sweep = setInterval(() => app.server.closeIdleConnections(), 100);
			const deadline = setTimeout(() => app.server.closeAllConnections(), config.http.drainTimeout);
			deadline.unref();
			try {
				await app.close();
				// The tidying that followed the last responses (removal of committed uploads).
				await registry.drain();
			} finally {
				clearInterval(sweep);
				clearTimeout(deadline);
				// After the last request: its lock is released before the connection goes.
				await locking?.close();
			}
		})();
		return closing;
	};
	return {
		app,
		registry,
		logger,
		address,
		close,
		...(metrics ? { metrics } : {}),
		...(debug ? { debugAddress: debug.address } : {}),
	};
}
