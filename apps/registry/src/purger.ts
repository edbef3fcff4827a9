import type { PurgeResult, Registry } from "@stowage/core";
import type { Logger } from "pino";

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

export interface Purger {
	/** Stop scheduling and abort a run in progress; resolves when it has stopped. */
	stop(): Promise<void>;
	/** Run once now (also what the schedule calls). */
	runOnce(): Promise<void>;
}

/** Remove abandoned uploads on a schedule. A failed run is logged; the schedule goes on. */
export function startUploadPurger(registry: Registry, options: PurgerOptions, log: Logger): Purger {
	const controller = new AbortController();
	let timer: NodeJS.Timeout | undefined;
	let running: Promise<void> | undefined;

	const run = async () => {
		const started = Date.now();
		try {
			const result = await registry.purgeUploads({
				olderThan: options.age,
				dryRun: options.dryRun,
				signal: controller.signal,
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
			if (!controller.signal.aborted) log.error({ err }, "upload purge failed");
		}
	};
	const runOnce = async () => {
		if (running) return running;
		running = run().finally(() => {
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
		// The schedule alone must not keep the process alive.
		timer.unref();
	};
	schedule(options.initialDelay ?? Math.floor(Math.random() * 60_000));
	return {
		runOnce,
		async stop() {
			controller.abort();
			if (timer) clearTimeout(timer);
			await running;
		},
	};
}
