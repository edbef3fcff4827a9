import { PathNotFoundError } from "../driver/errors.js";
import type { StorageDriver } from "../driver/types.js";
import { deleteIfExists } from "../manifests/links.js";
import { readTombstone } from "./fence.js";
import type { GcPaths } from "./paths.js";
import { TaskPool } from "./pool.js";

/**
 * After the sweep: remove claims older than the cut-off (a claim only protects while it is young,
 * and by then every reference it stood for is a link the next mark sees) and tombstones whose
 * deadline passed (left by a collection that died). Runs after all of this collection's
 * deletions, so a claim removed here protected nothing it still had to.
 */
export async function tidyProtocolFiles(
	driver: StorageDriver,
	paths: GcPaths,
	cutoff: number,
	concurrency: number,
	signal?: AbortSignal,
): Promise<number> {
	const pool = new TaskPool(concurrency);
	let removed = 0;
	const visit = async (root: string, stale: (path: string, modTime: Date) => Promise<boolean>) => {
		try {
			await driver.walk(
				root,
				async (info) => {
					if (info.isDir) return undefined;
					await pool.add(async () => {
						if (await stale(info.path, info.modTime)) {
							if (await deleteIfExists(driver, info.path, signal)) removed += 1;
						}
					});
					return undefined;
				},
				{ signal },
			);
		} catch (err) {
			if (!(err instanceof PathNotFoundError)) throw err;
		}
	};
	await visit(paths.claims, async (_path, modTime) => modTime.getTime() < cutoff);
	await visit(paths.tombstones, async (path) => {
		const tombstone = await readTombstone(driver, path, signal);
		return tombstone !== undefined && tombstone.deadline < Date.now();
	});
	await pool.drain();
	return removed;
}
