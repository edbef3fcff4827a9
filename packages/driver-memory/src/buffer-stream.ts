import { Readable } from "node:stream";
import { OperationAbortedError } from "@stowage/core";

/** Read size per push: bounded chunks keep backpressure meaningful for large files. */
const CHUNK_SIZE = 64 * 1024;

/**
 * A byte stream over an immutable buffer. Each chunk is a copy, so a consumer mutating what it
 * receives cannot corrupt stored content. Aborting the signal destroys the stream with an
 * OperationAbortedError.
 */
export function bufferStream(driver: string, data: Buffer, signal?: AbortSignal): Readable {
	let position = 0;
	const stream = new Readable({
		highWaterMark: CHUNK_SIZE,
		read() {
			if (position >= data.length) {
				this.push(null);
				return;
			}
			const end = Math.min(position + CHUNK_SIZE, data.length);
			this.push(Buffer.from(data.subarray(position, end)));
			position = end;
		},
	});
	if (signal) {
		const onAbort = () =>
			stream.destroy(new OperationAbortedError(driver, "reader", { cause: signal.reason }));
		signal.addEventListener("abort", onAbort, { once: true });
		stream.once("close", () => signal.removeEventListener("abort", onAbort));
	}
	return stream;
}
