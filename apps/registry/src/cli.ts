#!/usr/bin/env node
import { parseArgs } from "node:util";
import { garbageCollectCommand } from "./cli/gc-command.js";
import { COMMAND_HELP, COMMANDS, type Command, USAGE } from "./cli/help.js";
import { LineOutput } from "./cli/progress.js";
import { purgeUploadsCommand } from "./cli/purge-command.js";
import { type CliOverrides, ConfigError, loadConfig, parseDuration } from "./config.js";
import { createLogger } from "./logger.js";
import { serve } from "./serve.js";

/** Flags each command takes (besides --help); the others are refused, not ignored. */
const CONFIG_FLAGS = ["log-level", "root", "inmemory"];
const FLAGS: Record<Command, string[]> = {
	serve: [...CONFIG_FLAGS, "addr", "host", "delete", "read-only"],
	"garbage-collect": [...CONFIG_FLAGS, "dry-run", "delete-untagged", "grace", "quiet"],
	"purge-uploads": [...CONFIG_FLAGS, "dry-run", "older-than", "quiet"],
};

/** Without a terminal, a progress line at most this often (ms); tests shorten it. */
const PROGRESS_INTERVAL = Number(process.env.STOWAGE_PROGRESS_INTERVAL_MS) || 10_000;

async function main(argv: string[]): Promise<number> {
	let parsed: ReturnType<typeof parse>;
	try {
		parsed = parse(argv);
	} catch (err) {
		console.error(`stowage: ${(err as Error).message}\n\n${USAGE}`);
		return 2;
	}
	const { values, positionals } = parsed;
	// `stowage help [command]` reads as `stowage [command] --help`.
	const help = values.help || positionals[0] === "help";
	const [command, file, ...extra] = positionals[0] === "help" ? positionals.slice(1) : positionals;
	if (help && (command === undefined || isCommand(command))) {
		console.log(command === undefined ? USAGE : COMMAND_HELP[command]);
		return 0;
	}
	if (!command || !isCommand(command) || extra.length > 0) {
		console.error(
			command && !isCommand(command) ? `stowage: unknown command ${command}\n\n${USAGE}` : USAGE,
		);
		return 2;
	}
	const foreign = Object.keys(values).filter((f) => f !== "help" && !FLAGS[command].includes(f));
	if (foreign.length > 0) {
		console.error(
			`stowage ${command}: --${foreign[0]} is not a flag of this command\n\n${COMMAND_HELP[command]}`,
		);
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
		if (command === "serve") return await runServer(config);
		const duration = (flag: string, value: string | undefined, fallback: number) => {
			if (value === undefined) return fallback;
			const ms = parseDuration(value);
			if (ms === undefined)
				throw new ConfigError(`--${flag}: expected a duration such as 1h or 30m`);
			return ms;
		};
		// On a terminal, log lines pass above the progress bar instead of through it.
		const output = process.stdout.isTTY && process.stderr.isTTY ? new LineOutput() : undefined;
		const logger = createLogger(config.log.level, config.log.fields, output);
		// The first signal stops the run cleanly (a collection takes its marker down).
		const controller = new AbortController();
		const interrupt = () => controller.abort(new Error("interrupted"));
		process.once("SIGINT", interrupt);
		process.once("SIGTERM", interrupt);
		const common = {
			dryRun: values["dry-run"] ?? false,
			quiet: values.quiet ?? false,
			progressInterval: PROGRESS_INTERVAL,
			tty: process.stderr.isTTY ? process.stderr : undefined,
			output,
			signal: controller.signal,
		};
		if (command === "purge-uploads") {
			const olderThan = duration(
				"older-than",
				values["older-than"],
				config.storage.uploadPurging.age,
			);
			return await purgeUploadsCommand(config, logger, { ...common, olderThan });
		}
		const gc = config.storage.garbageCollect;
		return await garbageCollectCommand(config, logger, {
			...common,
			grace: duration("grace", values.grace, gc.grace),
			deleteUntagged: values["delete-untagged"] ?? gc.deleteUntagged,
		});
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
			"delete-untagged": { type: "boolean" },
			grace: { type: "string" },
			quiet: { type: "boolean", short: "q" },
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

function isCommand(name: string): name is Command {
	return (COMMANDS as readonly string[]).includes(name);
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
