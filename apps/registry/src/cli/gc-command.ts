import { CollectionInProgressError, type GcEvent, type GcResult, Registry } from "@stowage/core";
import type { Logger } from "pino";
import type { StowageConfig } from "../config.js";
import { loadDriver } from "../drivers.js";
import { createProgress, formatBytes, type LineOutput } from "./progress.js";

export interface GcCommandOptions {
	dryRun: boolean;
	deleteUntagged: boolean;
	/** In ms. */
	grace: number;
	quiet: boolean;
	/** Progress lines without a terminal, at most every this many ms. */
	progressInterval: number;
	tty?: NodeJS.WriteStream | undefined;
	output?: LineOutput | undefined;
	signal: AbortSignal;
}

/** `stowage garbage-collect`: one collection, safe while registries keep serving. */
export async function garbageCollectCommand(
	config: StowageConfig,
	logger: Logger,
	options: GcCommandOptions,
): Promise<number> {
	const driver = await loadDriver(config.storage.driver.name, config.storage.driver.params);
	const registry = new Registry({ driver });
	const progress = options.quiet
		? undefined
		: createProgress({
				tty: options.tty,
				logger,
				...(options.output ? { output: options.output } : {}),
				task: options.dryRun ? "garbage collection (dry run)" : "garbage collection",
				interval: options.progressInterval,
			});
	const onEvent = (e: GcEvent) => {
		if (options.quiet) return;
		// A dry run is for reading: every item it would remove is listed.
		const level = options.dryRun || e.type === "warning" ? "info" : "debug";
		logger[level]({ ...e }, describeEvent(e));
	};
	let result: GcResult;
	try {
		result = await registry.garbageCollect({
			dryRun: options.dryRun,
			deleteUntagged: options.deleteUntagged,
			gracePeriod: options.grace,
			signal: options.signal,
			onEvent,
			...(progress
				? {
						onProgress: (p) =>
							progress.update(
								p.phase,
								{
									repositories: p.repositories,
									manifests: p.manifests,
									blobs: p.blobs,
									deleted: p.blobsDeleted,
									bytesFreed: p.bytesFreed,
								},
								p.fraction,
							),
					}
				: {}),
		});
	} catch (err) {
		progress?.stop();
		if (err instanceof CollectionInProgressError) {
			logger.error({ runs: err.runs }, err.message);
			return 1;
		}
		if (options.signal.aborted) {
			logger.warn("garbage collection interrupted: nothing more was deleted");
			return 130;
		}
		throw err;
	}
	progress?.stop();
	const { warnings, ...summary } = result;
	logger.info(
		{ ...summary, freed: formatBytes(result.bytesFreed) },
		result.dryRun
			? "garbage collection (dry run) done: nothing was deleted"
			: "garbage collection done",
	);
	return 0;
}

function describeEvent(e: GcEvent): string {
	const would = "dryRun" in e && e.dryRun ? "would delete" : "deleted";
	switch (e.type) {
		case "blob":
			return `${would} blob`;
		case "link":
			return `${would} layer link`;
		case "manifest":
			return `${would} untagged manifest`;
		case "directory":
			return "removed empty directory";
		case "called-off":
			return "kept: referenced during the collection";
		case "warning":
			return e.message;
	}
}
