import { Registry } from "@stowage/core";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { StowageConfig } from "./config.js";
import { loadDriver } from "./drivers.js";
import { createLogger } from "./logger.js";
import { type Purger, startUploadPurger } from "./purger.js";
import { createApp } from "./server.js";

export interface RunningServer {
	app: FastifyInstance;
	registry: Registry;
	logger: Logger;
	/** The bound address, e.g. `127.0.0.1:5000`. */
	address: string;
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
	const driver = await loadDriver(config.storage.driver.name, config.storage.driver.params);
	const registry = new Registry({ driver });
	const app = createApp({
		registry,
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
		purger = startUploadPurger(registry, purging, logger.child({ component: "purger" }));
	}
	logger.info(
		{
			address,
			driver: driver.name,
			delete: config.storage.deleteEnabled,
			purging: purging.enabled,
		},
		"stowage registry listening",
	);

	let closing: Promise<void> | undefined;
	const close = () => {
		closing ??= (async () => {
			await purger?.stop();
			// Idle keep-alive connections close at once, busy ones as soon as their request is done
			// (Node only closes those idle when close() is called), all of them at the deadline.
			const sweep = setInterval(() => app.server.closeIdleConnections(), 100);
			const deadline = setTimeout(() => app.server.closeAllConnections(), config.http.drainTimeout);
			deadline.unref();
			try {
				await app.close();
			} finally {
				clearInterval(sweep);
				clearTimeout(deadline);
			}
		})();
		return closing;
	};
	return { app, registry, logger, address, close };
}
