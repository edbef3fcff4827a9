import { PathNotFoundError } from "../driver/errors.js";
import type { StorageDriver } from "../driver/types.js";
import type { Layout } from "../layout.js";

export interface PurgeOptions {
	/** Uploads started longer ago than this many milliseconds are removed. */
	olderThan: number;
	/** Report what would be removed, remove nothing. */
	dryRun?: boolean;
	signal?: AbortSignal;
	now?: Date;
}

export interface PurgedUpload {
	readonly repository: string;
	readonly id: string;
	readonly startedAt: Date;
}

export interface PurgeResult {
	readonly removed: PurgedUpload[];
	readonly errors: Error[];
}

/**
 * Remove abandoned uploads. Walks `repositories/`, descending only into `_uploads` among the
 * underscore directories, and deletes each upload whose `startedat` is older than the cut-off.
 * An upload without a readable `startedat` is left alone: its age is unknown, and deleting a live
 * upload loses data while keeping a dead one only costs space. Errors on one upload do not stop
 * the others.
 */
export async function purgeUploads(
	driver: StorageDriver,
	layout: Layout,
	options: PurgeOptions,
): Promise<PurgeResult> {
	const cutoff = (options.now ?? new Date()).getTime() - options.olderThan;
	const root = layout.repositoriesRoot;
	const removed: PurgedUpload[] = [];
	const errors: Error[] = [];
	const { signal } = options;
	try {
		await driver.walk(
			root,
			async (info) => {
				if (!info.isDir) return undefined;
				const name = info.path.slice(info.path.lastIndexOf("/") + 1);
				const parent = info.path.slice(0, info.path.lastIndexOf("/"));
				if (parent.endsWith("/_uploads")) {
					const repository = parent.slice(root.length + 1, -"/_uploads".length);
					try {
						const startedAt = await readStartedAt(driver, `${info.path}/startedat`, signal);
						if (startedAt && startedAt.getTime() < cutoff) {
							if (!options.dryRun) await deleteIfPresent(driver, info.path, signal);
							removed.push({ repository, id: name, startedAt });
						}
					} catch (err) {
						errors.push(err instanceof Error ? err : new Error(String(err)));
					}
					return "skip";
				}
				if (name.startsWith("_") && name !== "_uploads") return "skip";
				return undefined;
			},
			{ signal },
		);
	} catch (err) {
		if (!(err instanceof PathNotFoundError)) throw err;
	}
	return { removed, errors };
}

async function readStartedAt(
	driver: StorageDriver,
	path: string,
	signal?: AbortSignal,
): Promise<Date | undefined> {
	try {
		const date = new Date((await driver.getContent(path, { signal })).toString("utf8").trim());
		return Number.isNaN(date.getTime()) ? undefined : date;
	} catch (err) {
		if (err instanceof PathNotFoundError) return undefined;
		throw err;
	}
}

async function deleteIfPresent(
	driver: StorageDriver,
	path: string,
	signal?: AbortSignal,
): Promise<void> {
	try {
		await driver.delete(path, { signal });
	} catch (err) {
		if (!(err instanceof PathNotFoundError)) throw err;
	}
}
