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
		const hint = options.startAfter;
		const visit = hint === undefined || child > hint;
		if (!visit && !mayHoldAfter(child, hint)) continue;
		let info: FileInfo;
		try {
			info = await driver.stat(child, options);
		} catch (err) {
			if (err instanceof PathNotFoundError) continue;
			throw err;
		}
		if (visit) {
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

/**
 * Whether a directory can hold entries sorting after the hint: all of them do when `path/` sorts
 * after it (note `-` and `.` sort before `/`), some may when the hint lies below the directory.
 */
function mayHoldAfter(path: string, hint: string | undefined): boolean {
	return hint === undefined || `${path}/` > hint || hint.startsWith(`${path}/`);
}
