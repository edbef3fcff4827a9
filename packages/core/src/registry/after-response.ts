/** What a failed task was doing, for the report. */
export type AfterResponseErrorHandler = (err: unknown, what: string) => void;

/** Tasks in flight beyond which new ones run inline: a slow backend slows commits, not memory. */
const MAX_PENDING = 256;

/**
 * Storage work nobody waits for: it follows a response and only tidies up (the removal of a
 * committed upload's digest states, say). Tasks are tracked so a shutdown or a test can wait
 * for them (`drain`), and a failure is reported, never thrown: whatever a task leaves behind
 * must be something a later sweep (the upload purger) removes anyway.
 */
export class AfterResponse {
	private readonly pending = new Set<Promise<void>>();

	constructor(private readonly onError: AfterResponseErrorHandler = () => {}) {}

	/** Start `task`; when too many are in flight already, run it before returning. */
	async run(what: string, task: () => Promise<void>): Promise<void> {
		const running = task().catch((err: unknown) => this.onError(err, what));
		if (this.pending.size >= MAX_PENDING) return running;
		const tracked = running.finally(() => this.pending.delete(tracked));
		this.pending.add(tracked);
	}

	/** Tasks still running. */
	get size(): number {
		return this.pending.size;
	}

	/** Resolves once every task started so far, and any they started, has finished. */
	async drain(): Promise<void> {
		while (this.pending.size > 0) await Promise.all([...this.pending]);
	}
}
