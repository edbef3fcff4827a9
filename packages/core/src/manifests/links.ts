import { type ParsedDigest, parseDigest } from "../digest.js";
import { PathNotFoundError } from "../driver/errors.js";
import type { StorageDriver } from "../driver/types.js";

/**
 * Link files hold one digest as text (`sha256:<hex>`, no newline), as Distribution writes them.
 * A missing link is undefined; a link whose content is not a digest is treated as missing too, so
 * a torn or foreign file never surfaces as a server error.
 */
export async function readLink(
	driver: StorageDriver,
	path: string,
	signal?: AbortSignal,
): Promise<ParsedDigest | undefined> {
	let content: Buffer;
	try {
		content = await driver.getContent(path, { signal });
	} catch (err) {
		if (err instanceof PathNotFoundError) return undefined;
		throw err;
	}
	try {
		return parseDigest(content.toString("utf8").trim());
	} catch {
		return undefined;
	}
}

export async function writeLink(
	driver: StorageDriver,
	path: string,
	d: ParsedDigest,
	signal?: AbortSignal,
): Promise<void> {
	await driver.putContent(path, Buffer.from(d.digest), { signal });
}

/** Children of a directory by base name; a missing directory has none. */
export async function listNames(
	driver: StorageDriver,
	path: string,
	signal?: AbortSignal,
): Promise<string[] | undefined> {
	let children: string[];
	try {
		children = await driver.list(path, { signal });
	} catch (err) {
		if (err instanceof PathNotFoundError) return undefined;
		throw err;
	}
	return children.map((c) => c.slice(c.lastIndexOf("/") + 1)).sort(compareStrings);
}

/** Plain code-unit order: for the ASCII of tags and names, the byte order OCI calls lexical. */
export function compareStrings(a: string, b: string): number {
	return a < b ? -1 : a > b ? 1 : 0;
}

/** Delete a path that may already be gone. */
export async function deleteIfExists(
	driver: StorageDriver,
	path: string,
	signal?: AbortSignal,
): Promise<boolean> {
	try {
		await driver.delete(path, { signal });
		return true;
	} catch (err) {
		if (err instanceof PathNotFoundError) return false;
		throw err;
	}
}

/** Run `fn` over items with at most `limit` in flight, keeping the order of results. */
export async function mapLimit<T, R>(
	items: readonly T[],
	limit: number,
	fn: (item: T) => Promise<R>,
): Promise<R[]> {
	const results = new Array<R>(items.length);
	let next = 0;
	const worker = async () => {
		while (next < items.length) {
			const i = next++;
			results[i] = await fn(items[i] as T);
		}
	};
	await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
	return results;
}
