/**
 * SHA-256 / SHA-512 hashes whose state can be saved (in Go's MarshalBinary format) and resumed
 * later, in another process. The native backend is a tiny N-API addon over the OpenSSL inside
 * Node (native speed); hash-wasm is the fallback when the addon is not built.
 *
 * Environment:
 *   STOWAGE_HASH_BACKEND=wasm|native  force a backend (default: native if it loads, else wasm)
 *   STOWAGE_REQUIRE_NATIVE_HASH=1     throw at load if the native addon does not load (CI)
 */
import { assertAlgorithm, type HashAlgorithm } from "./format.js";
import { loadAddon, nativeFactory } from "./native.js";
import type { ResumableHash } from "./types.js";
import { loadWasm } from "./wasm.js";

export { type HashAlgorithm, HashStateError } from "./format.js";
export type { ResumableHash } from "./types.js";

const requested = process.env.STOWAGE_HASH_BACKEND || undefined;
if (requested !== undefined && requested !== "native" && requested !== "wasm") {
	throw new Error(
		`STOWAGE_HASH_BACKEND must be "native" or "wasm", not ${JSON.stringify(requested)}`,
	);
}

const addon = loadAddon();
if (
	"error" in addon &&
	(process.env.STOWAGE_REQUIRE_NATIVE_HASH === "1" || requested === "native")
) {
	throw new Error(
		"@stowage/sha-state: the native hash addon did not load (run the package build; " +
			"STOWAGE_REQUIRE_NATIVE_HASH=1 or STOWAGE_HASH_BACKEND=native forbids the wasm fallback)",
		{ cause: addon.error },
	);
}

/** Which implementation is in use. */
export const hashBackend: "native" | "wasm" =
	"ops" in addon && requested !== "wasm" ? "native" : "wasm";

if ("error" in addon && requested !== "wasm") {
	const reason = addon.error.message.split("\n")[0];
	process.emitWarning(
		`@stowage/sha-state: native hash addon unavailable (${reason}); using hash-wasm, ~4x slower`,
		{ code: "STOWAGE_HASH_WASM_FALLBACK" },
	);
}

// hash-wasm only has async factories: initialize it up front (top-level await), and only when it
// is the backend, so createHash() stays synchronous either way.
const factory =
	hashBackend === "native" && "ops" in addon ? nativeFactory(addon.ops) : await loadWasm();

/**
 * A new hash, or one resumed from a state that `save()` (of either backend) or Go's
 * `MarshalBinary` produced. Throws HashStateError for a state it cannot read.
 */
export function createHash(algorithm: HashAlgorithm, state?: Uint8Array): ResumableHash {
	assertAlgorithm(algorithm);
	return factory(algorithm, state);
}
