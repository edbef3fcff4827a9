import { isAbort, isTransient } from "./errors.js";

export interface RetryPolicy {
	/** Attempts in all, the first included. */
	attempts: number;
	/** First backoff; doubles each time, with full jitter. */
	baseDelayMs: number;
	maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 100, maxDelayMs: 5_000 };

/**
 * Retry a step whose failure the SDK cannot retry itself: reading a response body (the SDK's
 * retries end when the headers arrive). Only transient errors are retried, never an abort.
 */
export async function withRetry<T>(
	step: (attempt: number) => Promise<T>,
	policy: RetryPolicy,
	signal?: AbortSignal,
): Promise<T> {
	for (let attempt = 1; ; attempt++) {
		try {
			return await step(attempt);
		} catch (err) {
			if (attempt >= policy.attempts || !isTransient(err) || isAbort(err, signal)) throw err;
			await backoff(attempt, policy, signal);
		}
	}
}

export function backoff(attempt: number, policy: RetryPolicy, signal?: AbortSignal): Promise<void> {
	const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
	const ms = Math.random() * cap;
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
