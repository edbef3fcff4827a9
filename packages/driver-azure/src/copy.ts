import { setTimeout as sleep } from "node:timers/promises";
import type { BlobBeginCopyFromUrlPollState, BlockBlobClient } from "@azure/storage-blob";
import { PathNotFoundError, StorageDriverError } from "@stowage/core";
import { isConditionFailed, isNotFound } from "./azure-errors.js";
import { deleteIfPresent } from "./blob-ops.js";
import type { SasSigner } from "./sas.js";

export interface CopyJob {
	driver: string;
	sourcePath: string;
	source: BlockBlobClient;
	dest: BlockBlobClient;
	signer: SasSigner | undefined;
	containerName: string;
	syncCopyMaxSize: number;
	/** First delay between polls of an asynchronous copy; it doubles up to 5 s. */
	pollIntervalMs: number;
	signal: AbortSignal | undefined;
}

const SOURCE_SAS_LIFETIME_MS = 60 * 60 * 1000;
const MAX_POLL_MS = 5000;

/**
 * Move = server-side copy of the exact version that was looked at (source If-Match), then a
 * delete of that version. Up to `syncCopyMaxSize` (Azure's limit is 256 MiB) one Copy Blob From
 * URL finishes the copy in the request; larger blobs use the asynchronous Copy Blob, polled to
 * completion and aborted if the caller gives up. The source is read through a short-lived SAS
 * when the driver can sign one (Copy Blob From URL requires it).
 */
export async function copyBlob(job: CopyJob): Promise<void> {
	const { source, dest, signal, driver, sourcePath } = job;
	let props: Awaited<ReturnType<BlockBlobClient["getProperties"]>>;
	try {
		props = await source.getProperties({ abortSignal: signal });
	} catch (err) {
		if (isNotFound(err)) throw new PathNotFoundError(driver, sourcePath, { cause: err });
		throw err;
	}
	const etag = props.etag as string;
	const size = props.contentLength ?? 0;
	const sas = job.signer
		? await job.signer.sign(
				job.containerName,
				source.name,
				new Date(Date.now() + SOURCE_SAS_LIFETIME_MS),
			)
		: undefined;
	const url = sas ? `${source.url}?${sas}` : source.url;
	const readable = sas !== undefined || source.url.includes("sig=");
	try {
		if (readable && size <= job.syncCopyMaxSize) {
			await dest.syncCopyFromURL(url, { sourceConditions: { ifMatch: etag }, abortSignal: signal });
		} else {
			await asyncCopy(job, url, etag);
		}
	} catch (err) {
		if (isNotFound(err)) throw new PathNotFoundError(driver, sourcePath, { cause: err });
		if (isConditionFailed(err)) {
			throw new StorageDriverError(
				driver,
				`move ${sourcePath}: the source changed during the copy`,
				{
					cause: err,
				},
			);
		}
		throw err;
	}
	// Only the version copied: a source rewritten meanwhile is someone else's new content.
	await deleteIfPresent(source, etag, signal);
}

async function asyncCopy(job: CopyJob, url: string, etag: string): Promise<void> {
	const { dest, signal, driver, sourcePath } = job;
	const poller = await dest.beginCopyFromURL(url, {
		sourceConditions: { ifMatch: etag },
		abortSignal: signal,
	});
	const state = poller.getOperationState() as BlobBeginCopyFromUrlPollState;
	if (state.error) throw state.error;
	if (state.isCompleted) return;
	const copyId = state.copyId;
	let wait = job.pollIntervalMs;
	try {
		for (;;) {
			await sleep(wait, undefined, { signal });
			wait = Math.min(wait * 2, MAX_POLL_MS);
			const p = await dest.getProperties({ abortSignal: signal });
			if (copyId !== undefined && p.copyId !== copyId) {
				throw new StorageDriverError(
					driver,
					`move ${sourcePath}: the destination was replaced during the copy`,
				);
			}
			if (p.copyStatus === "success") return;
			if (p.copyStatus !== "pending") {
				throw new StorageDriverError(
					driver,
					`move ${sourcePath}: copy ${p.copyStatus ?? "unknown"}: ${p.copyStatusDescription ?? ""}`,
				);
			}
		}
	} catch (err) {
		// Leave no copy running for a move that failed or was abandoned.
		if (copyId !== undefined) await dest.abortCopyFromURL(copyId).catch(() => undefined);
		throw err;
	}
}
