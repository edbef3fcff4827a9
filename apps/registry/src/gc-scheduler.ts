import { CollectionInProgressError, type GcResult, type Registry } from "@stowage/core";
import type { Logger } from "pino";
import type { Metrics } from "./metrics.js";

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

export interface Collector {
	/** Stop scheduling and abort a run in progress; resolves when it has stopped. */
	stop(): Promise<void>;
	runOnce(): Promise<GcResult | undefined>;
}

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
	const controller = new AbortController();
	let timer: NodeJS.Timeout | undefined;
	let running: Promise<GcResult | undefined> | undefined;

	const run = async (): Promise<GcResult | undefined> => {
		try {
			const result = await registry.garbageCollect({
				gracePeriod: options.grace,
				deleteUntagged: options.deleteUntagged,
				dryRun: options.dryRun,
				signal: controller.signal,
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
			if (!controller.signal.aborted) {
				metrics?.gcFinished(undefined);
				log.error({ err }, "garbage collection failed");
			}
			return undefined;
		}
	};
	const runOnce = () => {
		running ??= run().finally(() => {
			running = undefined;
		});
		return running;
	};
	const schedule = (delay: number) => {
		if (controller.signal.aborted) return;
		timer = setTimeout(async () => {
			await runOnce();
			schedule(options.interval);
		}, delay);
		timer.unref();
	};
	schedule(
		options.initialDelay ?? Math.floor(Math.random() * Math.min(options.interval, 60 * 60_000)),
	);
	return {
		runOnce,
		async stop() {
			controller.abort();
			if (timer) clearTimeout(timer);
			await running;
		},
	};
}
