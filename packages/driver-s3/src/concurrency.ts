/**
 * Run `fn` over `items` with at most `limit` in flight, and settle every task before reporting:
 * the first failure stops new tasks from starting, but nothing already started is left running
 * or rejecting unobserved.
 */
export async function mapLimit<T, R>(
	items: readonly T[],
	limit: number,
	fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
	const results: R[] = new Array(items.length);
	let next = 0;
	let failed = false;
	const worker = async () => {
		while (!failed && next < items.length) {
			const i = next++;
			try {
				results[i] = await fn(items[i] as T, i);
			} catch (err) {
				failed = true;
				throw err;
			}
		}
	};
	const settled = await Promise.allSettled(
		Array.from({ length: Math.min(limit, items.length) }, worker),
	);
	for (const s of settled) if (s.status === "rejected") throw s.reason;
	return results;
}
