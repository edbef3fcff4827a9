// Native and wasm states are both Go's format, so each backend must resume the other's states and
// produce byte-identical ones. Uses the internal constructors to have both in one process.
import { beforeAll, describe, expect, it } from "vitest";
import type { HashAlgorithm } from "../src/format.js";
import { loadAddon, nativeFactory } from "../src/native.js";
import type { ResumableHash } from "../src/types.js";
import { loadWasm } from "../src/wasm.js";
import { ALGORITHMS, BLOCK, bytes, hex, reference } from "./helpers.js";

type Factory = (algorithm: HashAlgorithm, state?: Uint8Array) => ResumableHash;

const addon = loadAddon();
const nativeAvailable = "ops" in addon;
if (!nativeAvailable) {
	console.warn("native addon not built: skipping cross-backend tests", addon.error.message);
}

describe.skipIf(!nativeAvailable).each(ALGORITHMS)("%s native <-> wasm", (alg) => {
	let native: Factory;
	let wasm: Factory;
	beforeAll(async () => {
		if ("ops" in addon) native = nativeFactory(addon.ops);
		wasm = await loadWasm();
	});

	const block = BLOCK[alg];
	const data = bytes(4 * block + 33, 21);
	const want = reference(alg, data);

	it("saves byte-identical states at every split point", () => {
		for (let split = 0; split <= data.length; split++) {
			const a = native(alg);
			const b = wasm(alg);
			a.update(data.subarray(0, split));
			b.update(data.subarray(0, split));
			expect(hex(b.save()), `split ${split}`).toBe(hex(a.save()));
		}
	});

	it.each([
		["native", "wasm"],
		["wasm", "native"],
	] as const)("resumes a %s state with %s at every split point", (from, to) => {
		const factories = { native, wasm };
		for (let split = 0; split <= data.length; split++) {
			const first = factories[from](alg);
			first.update(data.subarray(0, split));
			const second = factories[to](alg, first.save());
			expect(second.length).toBe(split);
			second.update(data.subarray(split));
			expect(second.digest(), `split ${split}`).toBe(want);
		}
	});

	it("hands a state back and forth across a long input", () => {
		const long = bytes(3 * 1024 * 1024 + 5, 22);
		let state: Uint8Array | undefined;
		let at = 0;
		for (let i = 0; at < long.length; i++) {
			const h = (i % 2 === 0 ? native : wasm)(alg, state);
			const piece = Math.min(long.length - at, 100_003 * (i + 1));
			h.update(long.subarray(at, at + piece));
			at += piece;
			state = h.save();
		}
		expect(native(alg, state).digest()).toBe(reference(alg, long));
		expect(wasm(alg, state).digest()).toBe(reference(alg, long));
	});
});
