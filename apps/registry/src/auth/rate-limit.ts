/**
 * Failed logins per client address: after `limit` failures within `window`, the address gets
 * 429 until the window ends, without its credentials being checked, so passwords cannot be
 * guessed at bcrypt speed and a flood of bad logins cannot keep the CPU busy with bcrypt.
 */

export interface FailureLimiterOptions {
	/** Failures allowed per window; 0 turns limiting off. */
	limit: number;
	/** In ms. */
	window: number;
	/** Addresses remembered at most; the oldest are forgotten first (bounded memory). */
	maxClients?: number;
	now?: () => number;
}

interface Entry {
	count: number;
	endsAt: number;
}

export class FailureLimiter {
	readonly #entries = new Map<string, Entry>();
	readonly #limit: number;
	readonly #window: number;
	readonly #maxClients: number;
	readonly #now: () => number;

	constructor(options: FailureLimiterOptions) {
		this.#limit = options.limit;
		this.#window = options.window;
		this.#maxClients = options.maxClients ?? 10_000;
		this.#now = options.now ?? Date.now;
	}

	/** Seconds until `client` may try again, or undefined when it may now. */
	retryAfter(client: string): number | undefined {
		if (this.#limit <= 0) return undefined;
		const entry = this.#entries.get(client);
		const now = this.#now();
		if (!entry || entry.endsAt <= now || entry.count < this.#limit) return undefined;
		return Math.max(1, Math.ceil((entry.endsAt - now) / 1000));
	}

	/** Record a failed login from `client`. */
	fail(client: string): void {
		if (this.#limit <= 0) return;
		const now = this.#now();
		const entry = this.#entries.get(client);
		if (entry && entry.endsAt > now) {
			entry.count++;
			return;
		}
		this.#entries.delete(client);
		this.#entries.set(client, { count: 1, endsAt: now + this.#window });
		this.#prune(now);
	}

	get size(): number {
		return this.#entries.size;
	}

	#prune(now: number): void {
		if (this.#entries.size <= this.#maxClients) return;
		for (const [client, entry] of this.#entries) {
			if (entry.endsAt <= now) this.#entries.delete(client);
		}
		// Still full: forget the oldest windows (Map order is insertion order).
		for (const client of this.#entries.keys()) {
			if (this.#entries.size <= this.#maxClients) break;
			this.#entries.delete(client);
		}
	}
}
