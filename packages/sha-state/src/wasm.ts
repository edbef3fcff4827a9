import { createHash as nodeCreateHash } from "node:crypto";
import { createSHA256, createSHA512, type IHasher } from "hash-wasm";
import {
	checkGoState,
	encodeGoState,
	GO_LAYOUT,
	type HashAlgorithm,
	INITIAL_H,
	toBytes,
} from "./format.js";
import type { ResumableHash } from "./types.js";

/*
 * hash-wasm's save() is a 4-byte build checksum followed by the wasm module's C context, which
 * for hash-wasm 4.x is (all little-endian, read off saved states of known inputs):
 *
 *   sha256: block[64] | uint64 byte count | uint32 h[8] | uint32 digest size | 4 pad  (112 bytes)
 *   sha512: block[128] | uint64 byte count | uint64 h[8] | uint32 digest size | 4 pad (208 bytes)
 *
 * The block holds the `count % blockSize` pending bytes first, as in Go's layout. Because this is
 * inferred, selfCheck() proves it against node:crypto before the backend is used, so a hash-wasm
 * upgrade that changes it fails loudly at load instead of corrupting states.
 */
const PREFIX = 4;

interface WasmLayout {
	readonly size: number;
	readonly lengthOffset: number;
	readonly hOffset: number;
	readonly digestSizeOffset: number;
}

const WASM_LAYOUT: Record<HashAlgorithm, WasmLayout> = {
	sha256: {
		size: PREFIX + 112,
		lengthOffset: PREFIX + 64,
		hOffset: PREFIX + 72,
		digestSizeOffset: PREFIX + 104,
	},
	sha512: {
		size: PREFIX + 208,
		lengthOffset: PREFIX + 128,
		hOffset: PREFIX + 136,
		digestSizeOffset: PREFIX + 200,
	},
};

/** One hash-wasm instance per algorithm, shared by all hashes of that algorithm (see swapIn). */
class Engine {
	readonly algorithm: HashAlgorithm;
	readonly hasher: IHasher;
	/** The 4-byte checksum hash-wasm prefixes to states of this build. */
	readonly prefix: Uint8Array;
	/** The hash whose state is currently loaded in `hasher`, if any. */
	owner: WasmHash | null = null;

	constructor(algorithm: HashAlgorithm, hasher: IHasher) {
		this.algorithm = algorithm;
		this.hasher = hasher;
		hasher.init();
		this.prefix = hasher.save().slice(0, PREFIX);
	}

	fromGo(state: Uint8Array): Uint8Array {
		const go = GO_LAYOUT[this.algorithm];
		const w = WASM_LAYOUT[this.algorithm];
		const goView = new DataView(state.buffer, state.byteOffset, state.byteLength);
		const raw = new Uint8Array(w.size);
		const view = new DataView(raw.buffer);
		raw.set(this.prefix);
		const length = goView.getBigUint64(go.lengthOffset, false);
		const pending = Number(length % BigInt(go.blockSize));
		raw.set(state.subarray(go.blockOffset, go.blockOffset + pending), PREFIX);
		view.setBigUint64(w.lengthOffset, length, true);
		for (let i = 0; i < 8; i++) {
			if (go.wordSize === 4) {
				view.setUint32(w.hOffset + 4 * i, goView.getUint32(4 + 4 * i, false), true);
			} else {
				view.setBigUint64(w.hOffset + 8 * i, goView.getBigUint64(4 + 8 * i, false), true);
			}
		}
		view.setUint32(w.digestSizeOffset, go.digestSize, true);
		return raw;
	}

	toGo(raw: Uint8Array): Uint8Array {
		const go = GO_LAYOUT[this.algorithm];
		const w = WASM_LAYOUT[this.algorithm];
		const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
		const length = Number(view.getBigUint64(w.lengthOffset, true));
		const h: bigint[] = [];
		for (let i = 0; i < 8; i++) {
			h.push(
				go.wordSize === 4
					? BigInt(view.getUint32(w.hOffset + 4 * i, true))
					: view.getBigUint64(w.hOffset + 8 * i, true),
			);
		}
		return encodeGoState(this.algorithm, h, raw.subarray(PREFIX, PREFIX + go.blockSize), length);
	}

	/**
	 * hash-wasm's factories are async, but createHash() is sync, so hashes cannot each get their own
	 * instance. Instead they take turns: the instance holds the state of `owner`, and another hash
	 * swaps its own state in (save + load, ~100-200 bytes) before it is used.
	 */
	swapIn(hash: WasmHash): IHasher {
		if (this.owner !== hash) {
			if (this.owner) this.owner.raw = this.hasher.save();
			this.hasher.load(hash.raw);
			this.owner = hash;
		}
		return this.hasher;
	}

	/** The current raw state of `hash`, leaving the instance as it is. */
	rawOf(hash: WasmHash): Uint8Array {
		return this.owner === hash ? this.hasher.save() : hash.raw;
	}

	/** Proves the assumed layout on this build of hash-wasm against node:crypto. */
	selfCheck(): void {
		const alg = this.algorithm;
		const go = GO_LAYOUT[alg];
		const fail = (what: string) => {
			throw new Error(
				`@stowage/sha-state: hash-wasm's ${alg} state layout is not the expected one (${what}); ` +
					"the wasm fallback cannot convert states to Go's format",
			);
		};
		const reference = (data: Uint8Array) => nodeCreateHash(alg).update(data).digest("hex");
		const hasher = this.hasher;
		this.owner = null;

		// A state built from the spec (initial h, pending "abc") must finish to sha("abc"): this pins
		// the block, length, h (offset and byte order) and digest-size fields.
		const abc = new TextEncoder().encode("abc");
		hasher.load(this.fromGo(encodeGoState(alg, INITIAL_H[alg], abc, 3)));
		if (hasher.digest("hex") !== reference(abc)) fail("spec-built state");

		// And hash-wasm's own states, at lengths on both sides of a block boundary, must convert to Go
		// states that record the right count and pending bytes, and convert back losslessly.
		const data = new Uint8Array(3 * go.blockSize);
		for (let i = 0; i < data.length; i++) data[i] = (i * 7 + 1) & 0xff;
		for (const n of [0, 1, go.blockSize - 1, go.blockSize, go.blockSize + 5, 2 * go.blockSize]) {
			hasher.init();
			hasher.update(data.subarray(0, n));
			const raw = hasher.save();
			if (raw.length !== WASM_LAYOUT[alg].size) fail(`state size ${raw.length}`);
			const state = this.toGo(raw);
			const { length } = checkGoState(alg, state);
			const pending = n % go.blockSize;
			const sameBlock = state
				.subarray(go.blockOffset, go.blockOffset + pending)
				.every((b, i) => b === data[n - pending + i]);
			if (length !== n || !sameBlock) fail(`state after ${n} bytes`);
			hasher.load(this.fromGo(state));
			hasher.update(data.subarray(n));
			if (hasher.digest("hex") !== reference(data)) fail(`resume after ${n} bytes`);
		}
		hasher.init();
	}
}

class WasmHash implements ResumableHash {
	readonly algorithm: HashAlgorithm;
	/** hash-wasm's own state; current only while this hash is not the engine's owner. */
	raw: Uint8Array;
	#engine: Engine;
	#length: number;

	constructor(engine: Engine, state?: Uint8Array) {
		this.algorithm = engine.algorithm;
		this.#engine = engine;
		if (state === undefined) {
			this.raw = engine.fromGo(
				encodeGoState(engine.algorithm, INITIAL_H[engine.algorithm], new Uint8Array(0), 0),
			);
			this.#length = 0;
		} else {
			const checked = checkGoState(engine.algorithm, state);
			this.raw = engine.fromGo(checked.state);
			this.#length = checked.length;
		}
	}

	get length(): number {
		return this.#length;
	}

	update(data: Uint8Array): void {
		if (!ArrayBuffer.isView(data)) throw new TypeError("update() expects a Uint8Array");
		const bytes = toBytes(data);
		this.#engine.swapIn(this).update(bytes);
		this.#length += bytes.byteLength;
	}

	digest(): string {
		const hasher = this.#engine.swapIn(this);
		// hash-wasm's digest() finalizes in place, so keep the state and give up ownership.
		this.raw = hasher.save();
		this.#engine.owner = null;
		return hasher.digest("hex");
	}

	save(): Uint8Array {
		return this.#engine.toGo(this.#engine.rawOf(this));
	}
}

export type Factory = (algorithm: HashAlgorithm, state?: Uint8Array) => ResumableHash;

/** Instantiates hash-wasm for both algorithms and verifies the state conversion. */
export async function loadWasm(): Promise<Factory> {
	const engines: Record<HashAlgorithm, Engine> = {
		sha256: new Engine("sha256", await createSHA256()),
		sha512: new Engine("sha512", await createSHA512()),
	};
	engines.sha256.selfCheck();
	engines.sha512.selfCheck();
	return (algorithm, state) => new WasmHash(engines[algorithm], state);
}
