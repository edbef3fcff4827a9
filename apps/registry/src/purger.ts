import type { PurgeResult, Registry } from "@stowage/core";
import type { Logger } from "pino";
import { type PeriodicJob, startPeriodic } from "./periodic.js";

export interface PurgerOptions {
	/** Uploads older than this many ms are removed. */
	age: number;
	/** Time between runs, in ms. */
	interval: number;
	dryRun: boolean;
	/** Delay before the first run, in ms. Default: a random minute, so replicas do not align. */
	initialDelay?: number;
	/** Told of each completed run (metrics count the uploads removed). */
	onRun?: (result: PurgeResult) => void;
}

export type Purger = PeriodicJob<void>;

/** Remove abandoned uploads on a schedule. A failed run is logged; the schedule goes on. */
export function startUploadPurger(registry: Registry, options: PurgerOptions, log: Logger): Purger {
	const run = async (signal: AbortSignal) => {
		const started = Date.now();
		try {
			const result = await registry.purgeUploads({
				olderThan: options.age,
				dryRun: options.dryRun,
				signal,
			});
			options.onRun?.(result);
			for (const err of result.errors)
				log.warn({ err }, "upload purge: could not remove an upload");
			log.info(
				{
					removed: result.removed.length,
					errors: result.errors.length,
					dryRun: options.dryRun,
					durationMs: Date.now() - started,
					uploads: result.removed.slice(0, 100).map((u) => `${u.repository}/${u.id}`),
				},
				options.dryRun ? "upload purge (dry run)" : "upload purge",
			);
		} catch (err) {
			if (!signal.aborted) log.error({ err }, "upload purge failed");
		}
	};
	return startPeriodic(run, {
		interval: options.interval,
		initialDelay: options.initialDelay ?? Math.floor(Math.random() * 60_000),
	});
}
