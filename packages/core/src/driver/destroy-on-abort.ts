import type { Readable } from "node:stream";
import { OperationAbortedError } from "./errors.js";

/**
 * Tie a reader's stream to the caller's signal: aborting destroys it with a typed error, which
 * also releases what the stream holds (a file, a connection). The listener goes with the stream.
 */
export function destroyOnAbort(driver: string, stream: Readable, signal: AbortSignal): void {
	const onAbort = () =>
		stream.destroy(new OperationAbortedError(driver, "reader", { cause: signal.reason }));
	signal.addEventListener("abort", onAbort, { once: true });
	stream.once("close", () => signal.removeEventListener("abort", onAbort));
}
