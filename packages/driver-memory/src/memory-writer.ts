import { type FileWriter, OperationAbortedError, PathNotFoundError } from "@stowage/core";
import type { Upload } from "./tree.js";

/** What a writer needs from its driver: the tree operations run under the driver's rules. */
export interface UploadHost {
	readonly name: string;
	isAttached(path: string, upload: Upload): boolean;
	commitUpload(path: string, upload: Upload): void;
	cancelUpload(path: string, upload: Upload): void;
}

/**
 * Appends to an Upload held by the driver, not by the writer: closing just lets go, and another
 * writer opened with `append: true` on the same driver continues the same bytes.
 */
export class MemoryFileWriter implements FileWriter {
	constructor(
		private readonly host: UploadHost,
		private readonly path: string,
		private readonly upload: Upload,
		private readonly signal: AbortSignal | undefined,
	) {}

	get size(): number {
		return this.upload.size;
	}

	async write(chunk: Uint8Array): Promise<void> {
		if (this.signal?.aborted) {
			throw new OperationAbortedError(this.host.name, "writer.write", {
				cause: this.signal.reason,
			});
		}
		if (chunk.length === 0) return;
		// Copy: the caller may reuse its buffer once the write resolves.
		this.upload.chunks.push(Buffer.from(chunk));
		this.upload.size += chunk.length;
	}

	async close(): Promise<void> {
		// The bytes already live in the driver's tree; there is nothing to flush.
	}

	async commit(): Promise<void> {
		this.requireAttached();
		this.host.commitUpload(this.path, this.upload);
	}

	async cancel(): Promise<void> {
		this.host.cancelUpload(this.path, this.upload);
	}

	/** A delete of the path (or a newer writer starting anew) discards this session's bytes. */
	private requireAttached(): void {
		if (!this.host.isAttached(this.path, this.upload)) {
			throw new PathNotFoundError(this.host.name, this.path);
		}
	}
}
