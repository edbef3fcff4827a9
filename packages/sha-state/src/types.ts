import type { HashAlgorithm } from "./format.js";

export interface ResumableHash {
	readonly algorithm: HashAlgorithm;
	/** Bytes hashed so far. */
	readonly length: number;
	update(data: Uint8Array): void;
	/** Lowercase hex digest of what was hashed so far; the hash can keep being updated afterwards. */
	digest(): string;
	/** The state, serialized in Go's crypto/sha256 / crypto/sha512 MarshalBinary format. */
	save(): Uint8Array;
}
