#!/usr/bin/env node
import { parseArgs } from "node:util";
import { Registry } from "@stowage/core";
import { type CliOverrides, ConfigError, loadConfig, parseDuration } from "./config.js";
import { loadDriver } from "./drivers.js";
import { createLogger } from "./logger.js";
import { serve } from "./serve.js";

const USAGE = `usage: stowage <command> [config.yml] [flags]

commands:
  serve [config.yml]          run the registry (defaults: filesystem under ./data, 127.0.0.1:5000)
  purge-uploads [config.yml]  remove abandoned uploads once, then exit

flags (override the file and REGISTRY_* environment variables):
  --addr <host:port>          http.addr
  --host <url>                http.host, the base URL of Location headers
  --log-level <level>         log.level: error, warn, info, debug
  --root <dir>                use the filesystem driver rooted at <dir>
  --inmemory                  use the in-memory driver (data is lost on exit)
  --delete                    storage.delete.enabled: allow DELETE of blobs and manifests
  --read-only                 storage.maintenance.readonly.enabled
  --dry-run                   purge-uploads: report, remove nothing
  --older-than <duration>     purge-uploads: age cut-off (default: uploadpurging.age, 168h)

The config file may also be given as REGISTRY_CONFIGURATION_PATH.`;

async function main(argv: string[]): Promise<number> {
	let parsed: ReturnType<typeof parse>;
	try {
		parsed = parse(argv);
	} catch (err) {
		console.error(`stowage: ${(err as Error).message}\n\n${USAGE}`);
		return 2;
	}
	const { values, positionals } = parsed;
	if (values.help) {
		console.log(USAGE);
		return 0;
	}
	const [command, file, ...extra] = positionals;
	if (!command || extra.length > 0 || !["serve", "purge-uploads"].includes(command)) {
		console.error(USAGE);
		return 2;
	}
	const cli: CliOverrides = {
		...(values.addr !== undefined ? { addr: values.addr } : {}),
		...(values.host !== undefined ? { host: values.host } : {}),
		...(values["log-level"] !== undefined ? { logLevel: values["log-level"] } : {}),
		...(values.root !== undefined ? { root: values.root } : {}),
		...(values.inmemory ? { inmemory: true } : {}),
		...(values.delete ? { deleteEnabled: true } : {}),
		...(values["read-only"] ? { readOnly: true } : {}),
	};
	try {
		const config = loadConfig(file ?? process.env.REGISTRY_CONFIGURATION_PATH, process.env, cli);
		if (command === "purge-uploads") {
			const olderThan =
				values["older-than"] === undefined
					? config.storage.uploadPurging.age
					: parseDuration(values["older-than"]);
			if (olderThan === undefined) throw new ConfigError(`--older-than: not a duration`);
			return await purgeOnce(config, olderThan, values["dry-run"] ?? false);
		}
		return await runServer(config);
	} catch (err) {
		if (err instanceof ConfigError) {
			console.error(`stowage: ${err.message}`);
			return 1;
		}
		throw err;
	}
}

function parse(argv: string[]) {
	return parseArgs({
		args: argv,
		allowPositionals: true,
		strict: true,
		options: {
			addr: { type: "string" },
			host: { type: "string" },
			"log-level": { type: "string" },
			root: { type: "string" },
			inmemory: { type: "boolean" },
			delete: { type: "boolean" },
			"read-only": { type: "boolean" },
			"dry-run": { type: "boolean" },
			"older-than": { type: "string" },
			help: { type: "boolean", short: "h" },
		},
	});
}

async function runServer(config: ReturnType<typeof loadConfig>): Promise<number> {
	const server = await serve(config);
	const { logger } = server;
	return new Promise<number>((resolve) => {
		let stopping = false;
		const stop = (signal: NodeJS.Signals) => {
			if (stopping) {
				logger.warn({ signal }, "second signal: exiting now");
				resolve(130);
				return;
			}
			stopping = true;
			logger.info({ signal }, "shutting down: finishing in-flight requests");
			server.close().then(
				() => {
					logger.info("stopped");
					resolve(0);
				},
				(err) => {
					logger.error({ err }, "shutdown failed");
					resolve(1);
				},
			);
		};
		process.on("SIGTERM", stop);
		process.on("SIGINT", stop);
	});
}

async function purgeOnce(
	config: ReturnType<typeof loadConfig>,
	olderThan: number,
	dryRun: boolean,
): Promise<number> {
	const logger = createLogger(config.log.level, config.log.fields);
	const driver = await loadDriver(config.storage.driver.name, config.storage.driver.params);
	const result = await new Registry({ driver }).purgeUploads({ olderThan, dryRun });
	for (const u of result.removed) {
		logger.info({ repository: u.repository, id: u.id, startedAt: u.startedAt, dryRun }, "purged");
	}
	for (const err of result.errors) logger.error({ err }, "could not purge an upload");
	logger.info({ removed: result.removed.length, errors: result.errors.length, dryRun }, "done");
	return result.errors.length > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
	(code) => {
		process.exitCode = code;
		// Anything left (sockets of a forced shutdown) must not keep a stopped server alive.
		setTimeout(() => process.exit(code), 1000).unref();
	},
	(err) => {
		console.error(err);
		process.exit(1);
	},
);
