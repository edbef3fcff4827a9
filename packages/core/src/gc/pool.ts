/**
 * Runs tasks with at most `limit` in flight while the caller keeps producing them (a walk's
 * callback): `add` waits for a free slot, so memory stays bounded. The first failure is kept and
 * rethrown by the next `add` or by `drain`.
 */
export class TaskPool {
	private readonly running = new Set<Promise<void>>();
	private failure: { error: unknown } | undefined;

	constructor(private readonly limit: number) {}

	async add(task: () => Promise<void>): Promise<void> {
		this.throwIfFailed();
		while (this.running.size >= this.limit) await Promise.race(this.running);
		this.throwIfFailed();
		const p: Promise<void> = task()
			.catch((error: unknown) => {
				this.failure ??= { error };
			})
			.finally(() => this.running.delete(p));
		this.running.add(p);
	}

	async drain(): Promise<void> {
		while (this.running.size > 0) await Promise.race(this.running);
		this.throwIfFailed();
	}

	private throwIfFailed(): void {
		if (this.failure) throw this.failure.error;
	}
}
