import { createHash as nodeCreateHash } from "node:crypto";
import type { HashAlgorithm } from "../src/index.js";

export const ALGORITHMS: readonly HashAlgorithm[] = ["sha256", "sha512"];
export const BLOCK: Record<HashAlgorithm, number> = { sha256: 64, sha512: 128 };

export function reference(algorithm: HashAlgorithm, ...parts: Uint8Array[]): string {
	const h = nodeCreateHash(algorithm);
	for (const part of parts) h.update(part);
	return h.digest("hex");
}

/** mulberry32: a small seeded PRNG so that failures reproduce. */
export function prng(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return (t ^ (t >>> 14)) >>> 0;
	};
}

export function bytes(length: number, seed: number): Uint8Array {
	const next = prng(seed);
	const out = new Uint8Array(length);
	const words = new Uint32Array(out.buffer, 0, length >>> 2);
	for (let i = 0; i < words.length; i++) words[i] = next();
	for (let i = words.length * 4; i < length; i++) out[i] = next() & 0xff;
	return out;
}

export function hex(data: Uint8Array): string {
	return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("hex");
}

export function fromHex(text: string): Uint8Array {
	return new Uint8Array(Buffer.from(text.replace(/\s+/g, ""), "hex"));
}
