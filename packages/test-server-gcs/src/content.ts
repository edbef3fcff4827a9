import { createHash, type Hash } from "node:crypto";
import { type FileHandle, open } from "node:fs/promises";
import { crc32cBase64, crc32cUpdate } from "./crc32c.js";

/** Running checksums of content written so far: what GCS reports as md5Hash and crc32c. */
export class Checksums {
	constructor(
		private readonly md5: Hash = createHash("md5"),
		private crc = 0,
		public size = 0,
	) {}

	update(chunk: Uint8Array): void {
		this.md5.update(chunk);
		this.crc = crc32cUpdate(this.crc, chunk);
		this.size += chunk.length;
	}

	/** The state to restore if what follows is rolled back. */
	snapshot(): [Hash, number, number] {
		return [this.md5.copy(), this.crc, this.size];
	}

	get md5Hash(): string {
		return this.md5.copy().digest("base64");
	}

	get crc32c(): string {
		return crc32cBase64(this.crc);
	}
}

/**
 * Appends content to a data file while checksumming it. Object data lives on disk, never in
 * memory: only the chunk in hand is.
 */
export class ContentSink {
	private constructor(
		private readonly handle: FileHandle,
		readonly sums: Checksums,
	) {}

	static async open(path: string, sums = new Checksums()): Promise<ContentSink> {
		return new ContentSink(await open(path, "a"), sums);
	}

	async write(chunk: Uint8Array): Promise<void> {
		let off = 0;
		while (off < chunk.length) {
			const { bytesWritten } = await this.handle.write(chunk, off, chunk.length - off);
			off += bytesWritten;
		}
		this.sums.update(chunk);
	}

	async close(): Promise<void> {
		await this.handle.close();
	}
}
