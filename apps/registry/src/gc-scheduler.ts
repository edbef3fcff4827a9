import { CollectionInProgressError, type GcResult, type Registry } from "@stowage/core";
import type { Logger } from "pino";
import type { Metrics } from "./metrics.js";
import { type PeriodicJob, startPeriodic } from "./periodic.js";

export interface CollectorOptions {
	/** Time between runs, in ms. */
	interval: number;
	/** Grace period of each run, in ms. */
	grace: number;
	deleteUntagged: boolean;
	dryRun: boolean;
	/** Delay before the first run, in ms. Default: a random part of the interval (up to 1 h). */
	initialDelay?: number;
}

export type Collector = PeriodicJob<GcResult | undefined>;

/**
 * Garbage collection on a schedule inside the server (`storage.maintenance.garbagecollect`),
 * safe beside its own and other replicas' pushes (core's gc/fence.ts). When another replica's
 * collection is running, this run is skipped. Failures are logged; the schedule goes on.
 */
export function startCollector(
	registry: Registry,
	options: CollectorOptions,
	log: Logger,
	metrics?: Metrics,
): Collector {
	const run = async (signal: AbortSignal): Promise<GcResult | undefined> => {
		try {
			const result = await registry.garbageCollect({
				gracePeriod: options.grace,
				deleteUntagged: options.deleteUntagged,
				dryRun: options.dryRun,
				signal,
			});
			metrics?.gcFinished(result);
			const { warnings, cutoff, runId, ...counts } = result;
			for (const warning of warnings) log.warn(warning);
			log.info(
				{ ...counts, runId, cutoff },
				options.dryRun ? "garbage collection (dry run)" : "garbage collection",
			);
			return result;
		} catch (err) {
			if (err instanceof CollectionInProgressError) {
				log.info({ runs: err.runs }, "garbage collection skipped: another one is running");
				return undefined;
			}
			if (!signal.aborted) {
				metrics?.gcFinished(undefined);
				log.error({ err }, "garbage collection failed");
			}
			return undefined;
		}
	};
	return startPeriodic(run, {
		interval: options.interval,
		initialDelay:
			options.initialDelay ?? Math.floor(Math.random() * Math.min(options.interval, 60 * 60_000)),
	});
}
