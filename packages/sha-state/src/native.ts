import { createRequire } from "node:module";
import { checkGoState, GO_LAYOUT, type HashAlgorithm, HashStateError, toBytes } from "./format.js";
import type { ResumableHash } from "./types.js";

/** The N-API addon in native/sha_state.c; contexts live in JS-owned, 8-byte-aligned memory. */
interface Addon {
	sha256CtxSize: number;
	sha512CtxSize: number;
	sha256Init(ctx: Uint8Array): void;
	sha256Update(ctx: Uint8Array, data: Uint8Array): void;
	sha256Digest(ctx: Uint8Array, out: Uint8Array): void;
	sha256Save(ctx: Uint8Array, out: Uint8Array): void;
	sha256Load(ctx: Uint8Array, state: Uint8Array): void;
	sha512Init(ctx: Uint8Array): void;
	sha512Update(ctx: Uint8Array, data: Uint8Array): void;
	sha512Digest(ctx: Uint8Array, out: Uint8Array): void;
	sha512Save(ctx: Uint8Array, out: Uint8Array): void;
	sha512Load(ctx: Uint8Array, state: Uint8Array): void;
}

type Ops = {
	ctxSize: number;
	init(ctx: Uint8Array): void;
	update(ctx: Uint8Array, data: Uint8Array): void;
	digest(ctx: Uint8Array, out: Uint8Array): void;
	save(ctx: Uint8Array, out: Uint8Array): void;
	load(ctx: Uint8Array, state: Uint8Array): void;
};

/** Loads build/sha_state.node (relative to src/ and dist/ alike); the error says why not. */
export function loadAddon(): { ops: Record<HashAlgorithm, Ops> } | { error: Error } {
	let addon: Addon;
	try {
		addon = createRequire(import.meta.url)("../build/sha_state.node") as Addon;
	} catch (err) {
		return { error: err instanceof Error ? err : new Error(String(err)) };
	}
	return {
		ops: {
			sha256: {
				ctxSize: addon.sha256CtxSize,
				init: addon.sha256Init,
				update: addon.sha256Update,
				digest: addon.sha256Digest,
				save: addon.sha256Save,
				load: addon.sha256Load,
			},
			sha512: {
				ctxSize: addon.sha512CtxSize,
				init: addon.sha512Init,
				update: addon.sha512Update,
				digest: addon.sha512Digest,
				save: addon.sha512Save,
				load: addon.sha512Load,
			},
		},
	};
}

class NativeHash implements ResumableHash {
	readonly algorithm: HashAlgorithm;
	#ops: Ops;
	#ctx: Uint8Array;
	#out: Buffer;
	#length: number;

	constructor(algorithm: HashAlgorithm, ops: Ops, state?: Uint8Array) {
		this.algorithm = algorithm;
		this.#ops = ops;
		// A BigUint64Array's memory is 8-byte aligned, as SHA512_CTX needs.
		this.#ctx = new Uint8Array(new BigUint64Array(Math.ceil(ops.ctxSize / 8)).buffer);
		this.#out = Buffer.allocUnsafe(GO_LAYOUT[algorithm].digestSize);
		if (state === undefined) {
			ops.init(this.#ctx);
			this.#length = 0;
		} else {
			const checked = checkGoState(algorithm, state);
			try {
				ops.load(this.#ctx, checked.state);
			} catch (err) {
				throw new HashStateError(`invalid ${algorithm} hash state`, { cause: err });
			}
			this.#length = checked.length;
		}
	}

	get length(): number {
		return this.#length;
	}

	update(data: Uint8Array): void {
		if (!ArrayBuffer.isView(data)) throw new TypeError("update() expects a Uint8Array");
		const bytes = toBytes(data);
		this.#ops.update(this.#ctx, bytes);
		this.#length += bytes.byteLength;
	}

	digest(): string {
		this.#ops.digest(this.#ctx, this.#out);
		return this.#out.toString("hex");
	}

	save(): Uint8Array {
		const out = new Uint8Array(GO_LAYOUT[this.algorithm].stateSize);
		this.#ops.save(this.#ctx, out);
		return out;
	}
}

export function nativeFactory(
	ops: Record<HashAlgorithm, Ops>,
): (algorithm: HashAlgorithm, state?: Uint8Array) => ResumableHash {
	return (algorithm, state) => new NativeHash(algorithm, ops[algorithm], state);
}
