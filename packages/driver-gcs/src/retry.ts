import { isAbort, isRetryable } from "./gcs-errors.js";

export interface RetryPolicy {
	maxAttempts: number;
	baseDelayMs: number;
	maxDelayMs: number;
}

/** Sleep that ends early (rejecting) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
	return new Promise((resolve, reject) => {
		if (signal?.aborted) {
			reject(signal.reason);
			return;
		}
		const onAbort = () => {
			clearTimeout(timer);
			reject(signal?.reason);
		};
		const timer = setTimeout(() => {
			signal?.removeEventListener("abort", onAbort);
			resolve();
		}, ms);
		signal?.addEventListener("abort", onAbort, { once: true });
	});
}

/** Exponential backoff with full jitter: a random delay below base·2^(attempt-1), capped. */
export function backoff(policy: RetryPolicy, attempt: number): number {
	const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
	return Math.floor(Math.random() * ceiling);
}

/**
 * Run `fn` until it succeeds, fails with a non-transient error, or runs out of attempts. Only
 * call it for requests that are safe to repeat: idempotent, or guarded by a precondition whose
 * failure the caller resolves.
 */
export async function withRetries<T>(
	policy: RetryPolicy,
	signal: AbortSignal | undefined,
	fn: (attempt: number) => Promise<T>,
	retryable: (err: unknown) => boolean = isRetryable,
): Promise<T> {
	for (let attempt = 1; ; attempt++) {
		signal?.throwIfAborted();
		try {
			return await fn(attempt);
		} catch (err) {
			if (isAbort(err, signal) || attempt >= policy.maxAttempts || !retryable(err)) throw err;
		}
		await sleep(backoff(policy, attempt), signal);
	}
}

/**
 * Settle with `promise`, or reject with the signal's reason as soon as it aborts. The promise
 * keeps running (the SDK's calls cannot be cancelled) and its late failure is swallowed, never
 * left unhandled.
 */
export function raceAbort<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
	if (!signal) return promise;
	promise.catch(() => {});
	if (signal.aborted) return Promise.reject(signal.reason);
	return new Promise<T>((resolve, reject) => {
		const onAbort = () => reject(signal.reason);
		signal.addEventListener("abort", onAbort, { once: true });
		promise.then(
			(v) => {
				signal.removeEventListener("abort", onAbort);
				resolve(v);
			},
			(e: unknown) => {
				signal.removeEventListener("abort", onAbort);
				reject(e);
			},
		);
	});
}
