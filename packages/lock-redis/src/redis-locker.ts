import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { Lock, Locker } from "@stowage/core";
import { Redis, type RedisOptions } from "ioredis";
import { LockLostError, LockServiceError } from "./errors.js";
import { RELEASE, RENEW } from "./scripts.js";

export interface RedisLockerOptions {
	/** A client to use as it is; `close()` leaves it open. */
	client?: Redis;
	/** Options of the client the locker creates and owns (ignored when `client` is given). */
	connection?: RedisOptions;
	/** How long a lock outlives its holder's last renewal, in ms. Default 10 s. */
	lease?: number;
	/** Renewal period in ms. Default a third of the lease. */
	renewEvery?: number;
	/** Prefix of every key. Default `stowage:lock:`. */
	prefix?: string;
	/** Failures nobody awaits (renewals, releases, the connection): for the log. */
	onError?: (err: Error) => void;
}

/**
 * Fail fast when Redis is away: a request must get a retryable error within a couple of
 * seconds, not wait in an offline queue while the client it serves times out.
 */
const CONNECTION_DEFAULTS: RedisOptions = {
	lazyConnect: true,
	enableOfflineQueue: false,
	maxRetriesPerRequest: 1,
	connectTimeout: 5000,
	commandTimeout: 2000,
};

/**
 * Upload locks shared by every replica through one Redis: `SET key token NX PX lease` takes a
 * lock, a timer renews the lease while it is held (so a long PATCH keeps it), and compare-and-
 * delete releases it. A holder that dies stops renewing and its lock expires with the lease.
 * A holder that cannot renew in time learns it through `Lock.signal` and must stop writing.
 */
export class RedisLocker implements Locker {
	readonly client: Redis;
	readonly lease: number;
	private readonly renewEvery: number;
	private readonly prefix: string;
	private readonly owned: boolean;
	private readonly onError: (err: Error) => void;
	private connecting: Promise<void> | undefined;

	constructor(options: RedisLockerOptions = {}) {
		this.lease = options.lease ?? 10_000;
		this.renewEvery = options.renewEvery ?? Math.floor(this.lease / 3);
		if (!(this.lease > 0) || !(this.renewEvery > 0) || this.renewEvery >= this.lease) {
			throw new RangeError("lease and renewEvery must be positive, renewEvery below lease");
		}
		this.prefix = options.prefix ?? "stowage:lock:";
		this.onError = options.onError ?? (() => undefined);
		this.owned = options.client === undefined;
		this.client = options.client ?? new Redis({ ...CONNECTION_DEFAULTS, ...options.connection });
		// Without a listener ioredis prints every connection error to the console.
		if (this.owned) this.client.on("error", (err: Error) => this.onError(err));
	}

	/** Connect and check that Redis answers: start-up fails here rather than on the first push. */
	async ready(): Promise<void> {
		try {
			await this.connect();
			await this.client.ping();
		} catch (err) {
			throw new LockServiceError(`redis is not reachable: ${(err as Error).message}`, {
				cause: err,
			});
		}
	}

	async tryAcquire(key: string): Promise<Lock | undefined> {
		try {
			await this.connect();
		} catch (err) {
			throw new LockServiceError(`redis is not reachable: ${(err as Error).message}`, {
				cause: err,
			});
		}
		const name = this.prefix + key;
		const token = randomUUID();
		const sent = performance.now();
		let reply: string | null;
		try {
			reply = await this.client.set(name, token, "PX", this.lease, "NX");
		} catch (err) {
			// The SET may have reached Redis even though its reply did not reach us.
			this.client.eval(RELEASE, 1, name, token).catch(() => undefined);
			throw new LockServiceError(`lock service unavailable: ${(err as Error).message}`, {
				cause: err,
			});
		}
		if (reply !== "OK") return undefined;
		return new RedisLock(this.client, name, token, sent, this.lease, this.renewEvery, this.onError);
	}

	/** The first connection of a lazy client; later reconnections are ioredis's own. */
	private connect(): Promise<void> {
		if (this.client.status !== "wait") return Promise.resolve();
		this.connecting ??= this.client.connect().finally(() => {
			this.connecting = undefined;
		});
		return this.connecting;
	}

	/** Close the connection the locker opened (a client passed in is left open). */
	async close(): Promise<void> {
		if (!this.owned) return;
		try {
			await this.client.quit();
		} catch {
			this.client.disconnect();
		}
	}
}

class RedisLock implements Lock {
	private readonly controller = new AbortController();
	private renewal: NodeJS.Timeout | undefined;
	private expiry: NodeJS.Timeout | undefined;
	private released = false;

	constructor(
		private readonly client: Redis,
		private readonly name: string,
		private readonly token: string,
		sent: number,
		private readonly lease: number,
		private readonly renewEvery: number,
		private readonly onError: (err: Error) => void,
	) {
		this.confirmed(sent);
		this.scheduleRenewal();
	}

	get signal(): AbortSignal {
		return this.controller.signal;
	}

	async release(): Promise<void> {
		if (this.released) return;
		this.released = true;
		clearTimeout(this.renewal);
		clearTimeout(this.expiry);
		try {
			await this.client.eval(RELEASE, 1, this.name, this.token);
		} catch (err) {
			// The lease frees the key soon anyway; a failed release must not fail the request.
			this.onError(err as Error);
		}
	}

	/**
	 * Redis started the lease no earlier than `sent`, so it lasts at least until `sent + lease`.
	 * Unless a renewal is confirmed by then, the holder can no longer know that the key is its
	 * own, and must stop.
	 */
	private confirmed(sent: number): void {
		clearTimeout(this.expiry);
		const left = sent + this.lease - performance.now();
		this.expiry = setTimeout(
			() => this.lose(`the lease could not be renewed within ${this.lease} ms`),
			Math.max(left, 0),
		);
		this.expiry.unref();
	}

	private scheduleRenewal(): void {
		this.renewal = setTimeout(() => void this.renew(), this.renewEvery);
		// A held lock must not keep a process alive that has nothing else to do.
		this.renewal.unref();
	}

	private async renew(): Promise<void> {
		if (this.released || this.signal.aborted) return;
		const sent = performance.now();
		try {
			const renewed = await this.client.eval(RENEW, 1, this.name, this.token, this.lease);
			if (this.released || this.signal.aborted) return;
			if (renewed !== 1) {
				this.lose("the lock expired or was taken by another holder");
				return;
			}
			this.confirmed(sent);
		} catch (err) {
			// Keep trying until the lease runs out; the expiry timer decides.
			this.onError(err as Error);
		}
		this.scheduleRenewal();
	}

	private lose(reason: string): void {
		if (this.released || this.signal.aborted) return;
		clearTimeout(this.renewal);
		clearTimeout(this.expiry);
		this.controller.abort(new LockLostError(`lock ${this.name} lost: ${reason}`));
	}
}
