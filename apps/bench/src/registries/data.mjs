// Blob contents: an endless repetition of one random 16 MiB block, made unique per blob by a tag
// in its first bytes, so every push stores new content (no "already exists" short cuts) without
// holding a gigabyte in memory.
import { createHash, randomBytes } from "node:crypto";

export const MiB = 1024 * 1024;
const BLOCK = randomBytes(16 * MiB);
const RUN = randomBytes(8).toString("hex");

/** A blob of `size` bytes named by `label`; `digest` is computed on first use. */
export function makeBlob(label, size) {
	const head = Buffer.from(BLOCK.subarray(0, Math.min(64, size)));
	head.write(`${RUN}:${label}:`.slice(0, head.length), "latin1");
	let digest;
	return {
		label,
		size,
		/** Bytes [from, to) in pieces of at most `piece` bytes. */
		*chunks(from = 0, to = size, piece = MiB) {
			for (let off = from; off < to; ) {
				const start = off % BLOCK.length;
				const n = Math.min(piece, to - off, BLOCK.length - start);
				if (off < head.length) {
					const m = Math.min(n, head.length - off);
					const out = Buffer.allocUnsafe(n);
					head.copy(out, 0, off, off + m);
					BLOCK.copy(out, m, start + m, start + n);
					yield out;
				} else {
					yield BLOCK.subarray(start, start + n);
				}
				off += n;
			}
		},
		get digest() {
			if (!digest) {
				const h = createHash("sha256");
				for (const c of this.chunks(0, size, 16 * MiB)) h.update(c);
				digest = `sha256:${h.digest("hex")}`;
			}
			return digest;
		},
	};
}

/** A small blob held in memory (small-blob pushes, manifest references). */
export function smallBlob(label, size) {
	const bytes = randomBytes(size);
	bytes.write(`${RUN}:${label}:`.slice(0, size), "latin1");
	return { bytes, size, digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}` };
}

export const runId = RUN;
