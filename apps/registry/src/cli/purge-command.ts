import { Registry } from "@stowage/core";
import type { Logger } from "pino";
import type { StowageConfig } from "../config.js";
import { loadDriver } from "../drivers.js";
import { createProgress, type LineOutput } from "./progress.js";

export interface PurgeCommandOptions {
	/** In ms. */
	olderThan: number;
	dryRun: boolean;
	quiet: boolean;
	progressInterval: number;
	tty?: NodeJS.WriteStream | undefined;
	output?: LineOutput | undefined;
	signal: AbortSignal;
}

/**
 * `stowage purge-uploads`: remove abandoned uploads once. Each goes by the driver's delete of its
 * directory, which on cloud drivers also aborts the multipart session holding its parts.
 */
export async function purgeUploadsCommand(
	config: StowageConfig,
	logger: Logger,
	options: PurgeCommandOptions,
): Promise<number> {
	const { dryRun } = options;
	const driver = await loadDriver(config.storage.driver.name, config.storage.driver.params);
	const progress = options.quiet
		? undefined
		: createProgress({
				tty: options.tty,
				logger,
				...(options.output ? { output: options.output } : {}),
				task: dryRun ? "upload purge (dry run)" : "upload purge",
				interval: options.progressInterval,
			});
	progress?.update("scanning", { uploads: 0, removed: 0, errors: 0 });
	let result: Awaited<ReturnType<Registry["purgeUploads"]>>;
	try {
		result = await new Registry({ driver }).purgeUploads({
			olderThan: options.olderThan,
			dryRun,
			signal: options.signal,
			...(progress ? { onProgress: (p) => progress.update("scanning", { ...p }) } : {}),
		});
	} catch (err) {
		progress?.stop();
		if (options.signal.aborted) {
			logger.warn("upload purge interrupted");
			return 130;
		}
		throw err;
	}
	progress?.stop();
	if (!options.quiet) {
		for (const u of result.removed) {
			logger.info(
				{ repository: u.repository, id: u.id, startedAt: u.startedAt, dryRun },
				dryRun ? "would purge" : "purged",
			);
		}
	}
	for (const err of result.errors) logger.error({ err }, "could not purge an upload");
	logger.info({ removed: result.removed.length, errors: result.errors.length, dryRun }, "done");
	return result.errors.length > 0 ? 1 : 0;
}
