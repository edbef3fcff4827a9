import { Readable } from "node:stream";
import { destroyOnAbort, type FillableReadable, StorageDriverError } from "@stowage/core";

/** Read size per push: bounded chunks keep backpressure meaningful for large files. */
const CHUNK_SIZE = 64 * 1024;

/**
 * A byte stream over an immutable buffer, also readable into the caller's buffers (`fill`).
 * Each chunk is a copy, so a consumer mutating what it receives cannot corrupt stored content.
 */
class BufferStream extends Readable implements FillableReadable {
	readonly #driver: string;
	readonly #data: Buffer;
	#position = 0;

	constructor(driver: string, data: Buffer) {
		super({ highWaterMark: CHUNK_SIZE });
		this.#driver = driver;
		this.#data = data;
	}

	override _read(): void {
		if (this.#position >= this.#data.length) {
			this.push(null);
			return;
		}
		const end = Math.min(this.#position + CHUNK_SIZE, this.#data.length);
		this.push(Buffer.from(this.#data.subarray(this.#position, end)));
		this.#position = end;
	}

	async fill(target: Uint8Array): Promise<number> {
		if (this.destroyed)
			throw this.errored ?? new StorageDriverError(this.#driver, "the reader is closed");
		const n = this.#data.copy(target, 0, this.#position);
		this.#position += n;
		return n;
	}
}

/**
 * A stream of `data`; aborting the signal destroys it with an OperationAbortedError.
 */
export function bufferStream(driver: string, data: Buffer, signal?: AbortSignal): Readable {
	const stream = new BufferStream(driver, data);
	if (signal) destroyOnAbort(driver, stream, signal);
	return stream;
}
