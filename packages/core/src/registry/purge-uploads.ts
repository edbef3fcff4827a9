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
	/** Called after each upload directory is judged; throttle in the caller. */
	onProgress?: (progress: PurgeProgress) => void;
}

export interface PurgeProgress {
	/** Upload directories examined. */
	readonly uploads: number;
	/** Removed (or, in a dry run, that would be). */
	readonly removed: number;
	readonly errors: number;
}

export interface PurgedUpload {
	readonly repository: string;
	readonly id: string;
	/** Its `startedat`, or when it was last modified if that is unreadable. */
	readonly startedAt: Date;
}

export interface PurgeResult {
	readonly removed: PurgedUpload[];
	readonly errors: Error[];
}

/**
 * Remove abandoned uploads. Walks `repositories/`, descending only into `_uploads` among the
 * underscore directories, and deletes each upload whose `startedat` is older than the cut-off.
 * An upload without a readable `startedat` is dated by its newest entry instead: a crash can leave
 * one (killed while writing `startedat`, or half-way through removing the upload), and nothing
 * else would ever remove it. A live upload always has `startedat`, written before anything else,
 * and is dated by it. Errors on one upload do not stop the others.
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
	let uploads = 0;
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
					uploads += 1;
					try {
						const startedAt =
							(await readStartedAt(driver, `${info.path}/startedat`, signal)) ??
							(await lastModified(driver, info.path, info.modTime, signal));
						if (startedAt && startedAt.getTime() < cutoff) {
							if (!options.dryRun) await deleteIfPresent(driver, info.path, signal);
							removed.push({ repository, id: name, startedAt });
						}
					} catch (err) {
						errors.push(err instanceof Error ? err : new Error(String(err)));
					}
					options.onProgress?.({ uploads, removed: removed.length, errors: errors.length });
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

/** The newest modification time of a directory and everything below it. */
async function lastModified(
	driver: StorageDriver,
	path: string,
	own: Date,
	signal?: AbortSignal,
): Promise<Date> {
	let newest = own.getTime();
	await driver.walk(
		path,
		(entry) => {
			newest = Math.max(newest, entry.modTime.getTime());
			return undefined;
		},
		{ signal },
	);
	return new Date(newest);
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
