import type { BlobClient, BlockBlobClient } from "@azure/storage-blob";
import { isConditionFailed, isNotFound } from "./azure-errors.js";

/**
 * Delete a block blob together with its staged (uncommitted) blocks. Committing an empty block
 * list discards every uncommitted block; the empty blob is then deleted, conditional on that
 * commit's ETag, so content another writer commits in between survives (as if the delete came
 * first). A plain delete is not enough everywhere: Azurite keeps a deleted blob's staged blocks
 * (they come back when blocks are staged under the name again), and Azure may answer 404 for a
 * blob that was never committed.
 *
 * `conditions` guard the empty commit: If-Match the committed version being discarded, or
 * If-None-Match: * when none was. Returns whether anything was there.
 */
export async function discardStaged(
	blob: BlockBlobClient,
	conditions: { ifMatch?: string; ifNoneMatch?: string } | undefined,
	signal?: AbortSignal,
): Promise<boolean> {
	try {
		const emptied = await blob.commitBlockList([], { conditions, abortSignal: signal });
		await blob.delete({ conditions: { ifMatch: emptied.etag }, abortSignal: signal });
		return true;
	} catch (err) {
		if (isNotFound(err) || isConditionFailed(err)) return false;
		throw err;
	}
}

/**
 * Delete a listed blob: a plain delete, or, for the blob of an upload in progress (`staged`) or
 * one the service will not delete as such (never committed), `discardStaged`.
 */
export async function discardBlob(
	blob: BlockBlobClient,
	staged: boolean,
	signal?: AbortSignal,
): Promise<boolean> {
	if (staged) return discardStaged(blob, undefined, signal);
	try {
		await blob.delete({ deleteSnapshots: "include", abortSignal: signal });
		return true;
	} catch (err) {
		if (!isNotFound(err)) throw err;
	}
	return discardStaged(blob, { ifNoneMatch: "*" }, signal);
}

/** Delete if present; an absent blob or one replaced since `etag` is not an error here. */
export async function deleteIfPresent(
	blob: BlobClient,
	etag?: string,
	signal?: AbortSignal,
): Promise<boolean> {
	try {
		await blob.delete({
			deleteSnapshots: "include",
			conditions: etag ? { ifMatch: etag } : undefined,
			abortSignal: signal,
		});
		return true;
	} catch (err) {
		if (isNotFound(err) || isConditionFailed(err)) return false;
		throw err;
	}
}

/**
 * A counting semaphore: at most `limit` tasks at once. Every task started is awaited before
 * `drain` settles, so no rejection is left unobserved; the first failure is rethrown.
 */
export class Limiter {
	private active = 0;
	private readonly waiting: (() => void)[] = [];
	private readonly running = new Set<Promise<void>>();
	private failure: { error: unknown } | undefined;

	constructor(private readonly limit: number) {}

	/** Start `task` when a slot is free; resolves once it has started. */
	async run(task: () => Promise<void>): Promise<void> {
		if (this.failure) throw this.failure.error;
		while (this.active >= this.limit) {
			await new Promise<void>((resolve) => this.waiting.push(resolve));
		}
		this.active++;
		const p = task()
			.catch((error: unknown) => {
				this.failure ??= { error };
			})
			.finally(() => {
				this.active--;
				this.running.delete(p);
				this.waiting.shift()?.();
			});
		this.running.add(p);
	}

	async drain(): Promise<void> {
		while (this.running.size > 0) await Promise.all(this.running);
		if (this.failure) throw this.failure.error;
	}
}
