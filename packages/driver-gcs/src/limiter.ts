/**
 * Caps requests in flight (Distribution's `maxconcurrency` regulator). Each request takes a slot
 * for its own duration only, never while waiting to retry, so callers cannot deadlock each other.
 */
export class Limiter {
	private active = 0;
	private readonly queue: (() => void)[] = [];

	constructor(readonly limit: number) {}

	async run<T>(fn: () => Promise<T>): Promise<T> {
		if (this.active >= this.limit) {
			await new Promise<void>((resolve) => this.queue.push(resolve));
		} else {
			this.active++;
		}
		try {
			return await fn();
		} finally {
			const next = this.queue.shift();
			if (next) next();
			else this.active--;
		}
	}
}

/** Run `fn` over `items` with at most `width` at a time; every task settles before this does. */
export async function forEachBounded<T>(
	items: readonly T[],
	width: number,
	fn: (item: T) => Promise<void>,
): Promise<void> {
	let next = 0;
	let failure: { error: unknown } | undefined;
	const worker = async () => {
		while (next < items.length && !failure) {
			const item = items[next++] as T;
			try {
				await fn(item);
			} catch (error) {
				failure ??= { error };
			}
		}
	};
	await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
	if (failure) throw failure.error;
}
