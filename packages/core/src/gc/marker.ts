import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { PathNotFoundError } from "../driver/errors.js";
import type { StorageDriver } from "../driver/types.js";
import { StowageError } from "../errors/stowage-error.js";
import { deleteIfExists } from "../manifests/links.js";
import type { GcPaths } from "./paths.js";

/** How often a running collection rewrites its marker. */
export const MARKER_HEARTBEAT_MS = 60_000;
/** A marker not rewritten for this long belongs to a collection that died; the next one clears it. */
export const MARKER_STALE_MS = 15 * 60_000;
/**
 * A collection that could not rewrite its marker for this long deletes nothing more: by the time
 * another collection calls its marker stale, it has long stopped.
 */
export const MARKER_TRUST_MS = 5 * 60_000;

export class CollectionInProgressError extends StowageError {
	readonly code = "GC_IN_PROGRESS";
	constructor(
		readonly runs: string[],
		readonly since: Date,
	) {
		super(
			`another garbage collection is running (${runs.join(", ")}, marker last written ${since.toISOString()}); ` +
				`a marker not rewritten for ${MARKER_STALE_MS / 60_000} minutes is cleared automatically`,
		);
	}
}

export interface CollectionMarker {
	readonly runId: string;
	/** The backend's clock when the marker was written: the reference for every age. */
	readonly startedAt: Date;
	/** Whether the marker was rewritten recently enough for deleting to stay safe. */
	alive(): boolean;
	/** Stop the heartbeat and take the marker down. */
	remove(): Promise<void>;
}

/**
 * Put up this collection's marker (step 1 of the protocol in fence.ts). Refuses while another
 * live collection has one: two collections would not lose data, but each would report the
 * other's deletions as its own and double the load.
 */
export async function raiseMarker(
	driver: StorageDriver,
	paths: GcPaths,
	options: { signal?: AbortSignal; heartbeatMs?: number } = {},
): Promise<CollectionMarker> {
	const { signal } = options;
	const runId = randomUUID();
	const path = paths.collection(runId);
	const body = Buffer.from(
		JSON.stringify({ run: runId, host: hostname(), pid: process.pid, started: new Date() }),
	);
	await driver.putContent(path, body, { signal });
	let lastBeat = performance.now();
	const startedAt = (await driver.stat(path, { signal })).modTime;

	try {
		const others: string[] = [];
		let newest = new Date(0);
		for (const other of await driver.list(paths.collections, { signal })) {
			if (other === path) continue;
			let modTime: Date;
			try {
				modTime = (await driver.stat(other, { signal })).modTime;
			} catch (err) {
				if (err instanceof PathNotFoundError) continue;
				throw err;
			}
			if (startedAt.getTime() - modTime.getTime() > MARKER_STALE_MS) {
				await deleteIfExists(driver, other, signal);
				continue;
			}
			others.push(other.slice(other.lastIndexOf("/") + 1));
			if (modTime > newest) newest = modTime;
		}
		if (others.length > 0) throw new CollectionInProgressError(others, newest);
	} catch (err) {
		await deleteIfExists(driver, path).catch(() => undefined);
		throw err;
	}

	let beating: Promise<void> = Promise.resolve();
	const timer = setInterval(() => {
		beating = driver.putContent(path, body).then(
			() => {
				lastBeat = performance.now();
			},
			() => undefined,
		);
	}, options.heartbeatMs ?? MARKER_HEARTBEAT_MS);
	timer.unref();
	return {
		runId,
		startedAt,
		alive: () => performance.now() - lastBeat < MARKER_TRUST_MS,
		async remove() {
			clearInterval(timer);
			// A heartbeat still in flight would put the marker back after the delete.
			await beating;
			await deleteIfExists(driver, path);
		},
	};
}
