import { Readable } from "node:stream";

/**
 * At most `length` bytes of `source`, then end and release the source: a ranged read must not
 * keep streaming the rest of a large blob from the backend.
 */
export function limitStream(source: Readable, length: number): Readable {
	let remaining = length;
	const limited = new Readable({
		read() {
			source.resume();
		},
		destroy(err, callback) {
			source.destroy();
			callback(err);
		},
	});
	if (remaining === 0) {
		source.destroy();
		limited.push(null);
		return limited;
	}
	source.on("data", (chunk: Buffer) => {
		if (remaining <= 0) return;
		const part = chunk.length > remaining ? chunk.subarray(0, remaining) : chunk;
		remaining -= part.length;
		const more = limited.push(part);
		if (remaining === 0) {
			limited.push(null);
			source.destroy();
		} else if (!more) {
			source.pause();
		}
	});
	source.once("end", () => {
		if (remaining > 0) limited.push(null);
	});
	source.once("error", (err) => limited.destroy(err));
	return limited;
}
