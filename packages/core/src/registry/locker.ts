/**
 * Mutual exclusion for upload sessions: two requests writing one upload must never interleave
 * bytes. The in-process locker covers one registry process; replicas sharing a backend plug in a
 * distributed implementation (e.g. Redis) behind the same interface.
 */
export interface Lock {
	/**
	 * Aborted when a lock with a lease (a distributed one) is lost before release: its holder
	 * stalled past the lease or lost the lock service. Work done under the lock must stop then,
	 * so it cannot interleave with the next holder's. In-process locks are never lost.
	 */
	readonly signal?: AbortSignal;
	release(): Promise<void>;
}

export interface Locker {
	/** Take the lock, or resolve undefined at once when someone else holds it. */
	tryAcquire(key: string): Promise<Lock | undefined>;
}

export class MemoryLocker implements Locker {
	private readonly held = new Set<string>();

	async tryAcquire(key: string): Promise<Lock | undefined> {
		if (this.held.has(key)) return undefined;
		this.held.add(key);
		let released = false;
		return {
			release: async () => {
				if (released) return;
				released = true;
				this.held.delete(key);
			},
		};
	}
}
