/**
 * Retrying transient backend failures, shared by the drivers whose SDKs cannot retry a step
 * themselves (a response body that breaks mid-stream, a resumable-session chunk).
 */
export interface RetryPolicy {
	/** Attempts in all, the first included. */
	readonly maxAttempts: number;
	/** Ceiling of the first backoff; it doubles with each attempt. */
	readonly baseDelayMs: number;
	readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
	maxAttempts: 5,
	baseDelayMs: 100,
	maxDelayMs: 5_000,
};

/**
 * Exponential backoff with full jitter: a random delay below base·2^(attempt-1), capped, so
 * clients retrying together spread out instead of hitting the backend in waves.
 */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
	const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
	return Math.floor(Math.random() * ceiling);
}

/** Wait, ending early (rejecting with the signal's reason) when the signal aborts. */
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

/**
 * Run `fn` until it succeeds, fails with an error `retryable` rejects, runs out of attempts, or
 * the signal aborts. Only for steps that are safe to repeat: idempotent, or guarded by a
 * precondition whose failure the caller resolves.
 */
export async function withRetries<T>(
	policy: RetryPolicy,
	fn: (attempt: number) => Promise<T>,
	options: { retryable: (err: unknown) => boolean; signal?: AbortSignal | undefined },
): Promise<T> {
	const { signal, retryable } = options;
	for (let attempt = 1; ; attempt++) {
		signal?.throwIfAborted();
		try {
			return await fn(attempt);
		} catch (err) {
			if (signal?.aborted || attempt >= policy.maxAttempts || !retryable(err)) throw err;
		}
		await sleep(backoffDelay(policy, attempt), signal);
	}
}
