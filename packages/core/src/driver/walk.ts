import { PathNotFoundError } from "./errors.js";
import type { FileInfo, StorageDriver, WalkFn, WalkOptions } from "./types.js";

/**
 * Walk by recursive `list` + `stat`, sorted within each directory, each directory before its
 * contents. Entries that vanish between list and stat are skipped (a concurrent delete is not a
 * walk error). Drivers without a native recursive listing use this.
 *
 * Returns true when the callback asked to stop.
 */
export async function walkFallback(
	driver: Pick<StorageDriver, "list" | "stat">,
	from: string,
	fn: WalkFn,
	options: WalkOptions = {},
): Promise<boolean> {
	const children = await driver.list(from, options);
	for (const child of children) {
		options.signal?.throwIfAborted();
		if (options.startAfter !== undefined && !couldContainAfter(child, options.startAfter)) continue;
		let info: FileInfo;
		try {
			info = await driver.stat(child, options);
		} catch (err) {
			if (err instanceof PathNotFoundError) continue;
			throw err;
		}
		const skipByHint = options.startAfter !== undefined && child <= options.startAfter;
		if (!skipByHint) {
			const control = await fn(info);
			if (control === "stop") return true;
			if (control === "skip") continue;
		}
		if (info.isDir) {
			try {
				if (await walkFallback(driver, child, fn, options)) return true;
			} catch (err) {
				if (err instanceof PathNotFoundError && err.path === child) continue;
				throw err;
			}
		}
	}
	return false;
}

/** A path sorting before the hint can still hold entries after it when the hint lies below it. */
function couldContainAfter(path: string, startAfter: string): boolean {
	return path > startAfter || startAfter.startsWith(`${path}/`);
}
