import type { Readable } from "node:stream";

/**
 * A reader stream that can also copy its next bytes into a buffer the caller owns. A server
 * sending a large blob then cycles two buffers instead of taking a new one per chunk: every
 * chunk a stream allocates is external memory only V8's collector frees, and at disk speed that
 * cost a full collection every 64 MiB, several times the CPU of the copy itself.
 *
 * Drivers offer it where reading into a given buffer is native (a file descriptor, memory);
 * `reader` still returns a plain Readable, and consumers test for it with `isFillable`.
 */
export interface FillableReadable extends Readable {
	/**
	 * Copy the next bytes into `target` and resolve to their count: 0 at the end. One call at a
	 * time; a consumer uses either this or the stream's own reading, never both, and destroys the
	 * stream when it is done, which releases the backend's handle. An abort still destroys the
	 * stream with an 'error' event, so a consumer that only fills must listen for it.
	 */
	fill(target: Uint8Array): Promise<number>;
}

export function isFillable(stream: Readable): stream is FillableReadable {
	return typeof (stream as Partial<FillableReadable>).fill === "function";
}
