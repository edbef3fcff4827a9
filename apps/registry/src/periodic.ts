/** A maintenance job the server runs on a schedule (upload purging, garbage collection). */
export interface PeriodicJob<T> {
	/** Run now, or join the run in progress: never two at once in one process. */
	runOnce(): Promise<T>;
	/** Stop scheduling and abort a run in progress; resolves when it has stopped. */
	stop(): Promise<void>;
}

/**
 * Run `job` every `interval` ms after `initialDelay`. The job gets a signal that aborts on
 * stop, and must not throw (it logs its own failures) so the schedule goes on. Timers are
 * unref'd: the schedule alone never keeps the process alive.
 */
export function startPeriodic<T>(
	job: (signal: AbortSignal) => Promise<T>,
	options: { interval: number; initialDelay: number },
): PeriodicJob<T> {
	const controller = new AbortController();
	let timer: NodeJS.Timeout | undefined;
	let running: Promise<T> | undefined;

	const runOnce = (): Promise<T> => {
		running ??= job(controller.signal).finally(() => {
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
	schedule(options.initialDelay);
	return {
		runOnce,
		async stop() {
			controller.abort();
			if (timer) clearTimeout(timer);
			await running;
		},
	};
}
