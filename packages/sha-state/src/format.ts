/**
 * The persisted hash state: Go's crypto/sha256 and crypto/sha512 MarshalBinary layout, so states
 * are interchangeable with CNCF Distribution's `_uploads/<uuid>/hashstates/<alg>/<offset>` files.
 *
 *   sha256: "sha\x03" | h[0..7] uint32 BE | 64-byte block | uint64 BE byte count  (108 bytes)
 *   sha512: "sha\x07" | h[0..7] uint64 BE | 128-byte block | uint64 BE byte count (204 bytes)
 *
 * The block holds the `count % blockSize` pending bytes first. Go derives the pending count from
 * the byte count and ignores the rest of the block: newer Go zero-fills it, older Go (<= 1.21 or
 * so) wrote stale bytes there, so non-zero bytes after the pending ones are accepted.
 */

export type HashAlgorithm = "sha256" | "sha512";

/** A state that cannot be read: wrong size, wrong magic (format/algorithm), impossible length. */
export class HashStateError extends Error {
	readonly code = "HASH_STATE_INVALID";
	constructor(message: string, options?: { cause?: unknown }) {
		super(message, options);
		this.name = "HashStateError";
	}
}

export interface GoLayout {
	readonly magic: number; // 4th magic byte, after "sha"
	readonly wordSize: 4 | 8;
	readonly blockSize: 64 | 128;
	readonly stateSize: number;
	readonly digestSize: number;
	readonly blockOffset: number;
	readonly lengthOffset: number;
}

function layout(magic: number, wordSize: 4 | 8, blockSize: 64 | 128, digestSize: number): GoLayout {
	const blockOffset = 4 + 8 * wordSize;
	const lengthOffset = blockOffset + blockSize;
	return {
		magic,
		wordSize,
		blockSize,
		stateSize: lengthOffset + 8,
		digestSize,
		blockOffset,
		lengthOffset,
	};
}

export const GO_LAYOUT: Readonly<Record<HashAlgorithm, GoLayout>> = {
	sha256: layout(0x03, 4, 64, 32),
	sha512: layout(0x07, 8, 128, 64),
};

// Other crypto/sha256 and crypto/sha512 magics, only to explain a mismatch.
const GO_MAGIC_NAMES: Record<number, string> = {
	2: "sha224",
	3: "sha256",
	4: "sha384",
	5: "sha512/224",
	6: "sha512/256",
	7: "sha512",
};

export function assertAlgorithm(algorithm: unknown): asserts algorithm is HashAlgorithm {
	if (algorithm !== "sha256" && algorithm !== "sha512") {
		throw new TypeError(`unsupported hash algorithm: ${String(algorithm)}`);
	}
}

function invalid(algorithm: HashAlgorithm, reason: string): HashStateError {
	return new HashStateError(`invalid ${algorithm} hash state: ${reason}`, {
		cause: new RangeError(reason),
	});
}

/**
 * Checks a state against the Go layout; returns it as a Uint8Array and the byte count it records.
 * Everything the resuming code relies on is checked here, so the backends can trust the bytes.
 * (There is no separate pending-byte count to cross-check: like Go, it is `count % blockSize`.)
 */
export function checkGoState(
	algorithm: HashAlgorithm,
	input: unknown,
): { state: Uint8Array; length: number } {
	const l = GO_LAYOUT[algorithm];
	if (!ArrayBuffer.isView(input)) {
		throw invalid(algorithm, "expected a Uint8Array");
	}
	const state = toBytes(input);
	const isGo = state.length >= 4 && state[0] === 0x73 && state[1] === 0x68 && state[2] === 0x61;
	if (!isGo) {
		throw invalid(algorithm, "not a Go crypto/sha256 or crypto/sha512 state (bad magic)");
	}
	if (state[3] !== l.magic) {
		const other =
			GO_MAGIC_NAMES[state[3] ?? -1] ?? `unknown version 0x${(state[3] ?? 0).toString(16)}`;
		throw invalid(algorithm, `state is for ${other}`);
	}
	if (state.length !== l.stateSize) {
		throw invalid(algorithm, `expected ${l.stateSize} bytes, got ${state.length}`);
	}
	const view = new DataView(state.buffer, state.byteOffset, state.byteLength);
	const length = view.getBigUint64(l.lengthOffset, false);
	// `length` is a JS number; 2^53 bytes (8 PiB) is far beyond any blob, so larger is corruption.
	if (length > BigInt(Number.MAX_SAFE_INTEGER)) {
		throw invalid(algorithm, `byte count ${length} is out of range`);
	}
	return { state, length: Number(length) };
}

/** A Uint8Array view of any ArrayBufferView (also from another realm), without copying. */
export function toBytes(data: ArrayBufferView): Uint8Array {
	return data instanceof Uint8Array
		? data
		: new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** The state of a hash that has absorbed nothing, built from the standard initial values. */
export const INITIAL_H: Readonly<Record<HashAlgorithm, readonly bigint[]>> = {
	sha256: [
		0x6a09e667n,
		0xbb67ae85n,
		0x3c6ef372n,
		0xa54ff53an,
		0x510e527fn,
		0x9b05688cn,
		0x1f83d9abn,
		0x5be0cd19n,
	],
	sha512: [
		0x6a09e667f3bcc908n,
		0xbb67ae8584caa73bn,
		0x3c6ef372fe94f82bn,
		0xa54ff53a5f1d36f1n,
		0x510e527fade682d1n,
		0x9b05688c2b3e6c1fn,
		0x1f83d9abfb41bd6bn,
		0x5be0cd19137e2179n,
	],
};

/** Encodes a state in the Go layout from its parts (h words, pending bytes, byte count). */
export function encodeGoState(
	algorithm: HashAlgorithm,
	h: readonly bigint[],
	pending: Uint8Array,
	length: number,
): Uint8Array {
	const l = GO_LAYOUT[algorithm];
	const out = new Uint8Array(l.stateSize);
	const view = new DataView(out.buffer);
	out.set([0x73, 0x68, 0x61, l.magic]);
	for (let i = 0; i < 8; i++) {
		const word = h[i] ?? 0n;
		if (l.wordSize === 4) view.setUint32(4 + 4 * i, Number(word), false);
		else view.setBigUint64(4 + 8 * i, word, false);
	}
	out.set(pending.subarray(0, length % l.blockSize), l.blockOffset);
	view.setBigUint64(l.lengthOffset, BigInt(length), false);
	return out;
}
