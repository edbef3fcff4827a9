// Runs once per backend (see vitest.config.ts): everything here must hold for native and wasm.
import { describe, expect, it } from "vitest";
import { createHash, HashStateError, hashBackend } from "../src/index.js";
import { ALGORITHMS, BLOCK, bytes, fromHex, hex, prng, reference } from "./helpers.js";

describe(`backend (${hashBackend})`, () => {
	it("is the one the environment asks for", () => {
		const forced = process.env.STOWAGE_HASH_BACKEND;
		if (forced === "wasm" || forced === "native") expect(hashBackend).toBe(forced);
		if (process.env.STOWAGE_REQUIRE_NATIVE_HASH === "1" && !forced) {
			expect(hashBackend).toBe("native");
		}
	});
});

describe.each(ALGORITHMS)(`%s (${hashBackend})`, (alg) => {
	const block = BLOCK[alg];

	it.each([0, 1, 55, 56, 63, 64, 65, 111, 112, 127, 128, 129, 1000])(
		"matches node:crypto for %i bytes",
		(n) => {
			const data = bytes(n, n + 1);
			const h = createHash(alg);
			h.update(data);
			expect(h.digest()).toBe(reference(alg, data));
			expect(h.length).toBe(n);
			expect(h.algorithm).toBe(alg);
		},
	);

	it("matches node:crypto for 1-10 MiB in random splits", () => {
		const next = prng(0x5eed + block);
		for (let round = 0; round < 3; round++) {
			const size = 1 + (next() % (10 * 1024 * 1024));
			const data = bytes(size, next());
			const h = createHash(alg);
			for (let at = 0; at < size; ) {
				// Mostly small and odd-sized pieces, sometimes large ones.
				const max = next() % 4 === 0 ? 4 * 1024 * 1024 : 3 * block;
				const piece = Math.min(size - at, next() % (max + 1));
				h.update(data.subarray(at, at + piece));
				at += piece;
			}
			expect(h.length).toBe(size);
			expect(h.digest()).toBe(reference(alg, data));
		}
	});

	it("resumes from save() at every split point of a few blocks", () => {
		const data = bytes(3 * block + 17, 7);
		const want = reference(alg, data);
		for (let split = 0; split <= data.length; split++) {
			const first = createHash(alg);
			first.update(data.subarray(0, split));
			const state = first.save();
			expect(state.length).toBe(alg === "sha256" ? 108 : 204);
			const resumed = createHash(alg, state);
			expect(resumed.length).toBe(split);
			resumed.update(data.subarray(split));
			expect(resumed.digest(), `split ${split}`).toBe(want);
			// The saved hash itself is unaffected by save().
			first.update(data.subarray(split));
			expect(first.digest()).toBe(want);
		}
	});

	it("survives a save/resume after every chunk, as an upload does", () => {
		const next = prng(42 + block);
		const data = bytes(256 * 1024 + 3, 3);
		let state = createHash(alg).save();
		for (let at = 0; at < data.length; ) {
			const piece = Math.min(data.length - at, next() % (20 * 1024));
			const h = createHash(alg, state);
			h.update(data.subarray(at, at + piece));
			at += piece;
			state = h.save();
		}
		const last = createHash(alg, state);
		expect(last.length).toBe(data.length);
		expect(last.digest()).toBe(reference(alg, data));
	});

	it("resumes at exact block boundaries of large inputs", () => {
		const data = bytes(1024 * 1024, 11);
		for (const split of [block, 2 * block, 1024 * block, 512 * 1024, data.length - block]) {
			const first = createHash(alg);
			first.update(data.subarray(0, split));
			const resumed = createHash(alg, first.save());
			resumed.update(data.subarray(split));
			expect(resumed.digest()).toBe(reference(alg, data));
		}
	});

	it("lets digest() be called mid-stream without disturbing later updates", () => {
		const data = bytes(5 * block + 9, 5);
		const h = createHash(alg);
		for (const cut of [0, 1, block - 1, block, 2 * block + 3, data.length]) {
			h.update(data.subarray(h.length, cut));
			expect(h.digest()).toBe(reference(alg, data.subarray(0, cut)));
			expect(h.digest()).toBe(reference(alg, data.subarray(0, cut)));
		}
		// And save() after digest() still captures the live state.
		const resumed = createHash(alg, h.save());
		resumed.update(data);
		expect(resumed.digest()).toBe(reference(alg, data, data));
	});

	it("keeps interleaved hashes independent", () => {
		const next = prng(99);
		const inputs = [bytes(10_000, 1), bytes(7_777, 2), bytes(12_345, 3)];
		const hashes = inputs.map(() => createHash(alg));
		const offsets = inputs.map(() => 0);
		while (offsets.some((o, i) => o < (inputs[i]?.length ?? 0))) {
			const i = next() % inputs.length;
			const input = inputs[i] as Uint8Array;
			const o = offsets[i] as number;
			const piece = Math.min(input.length - o, next() % 300);
			hashes[i]?.update(input.subarray(o, o + piece));
			offsets[i] = o + piece;
			if (next() % 5 === 0) hashes[(i + 1) % 3]?.digest();
			if (next() % 7 === 0) hashes[(i + 2) % 3]?.save();
		}
		hashes.forEach((h, i) => {
			expect(h.digest()).toBe(reference(alg, inputs[i] as Uint8Array));
		});
	});

	it("reads input views with offsets (Buffer, subarray) without copying them first", () => {
		const backing = Buffer.from(bytes(4096, 8));
		const view = backing.subarray(13, 13 + 2 * block + 5);
		const h = createHash(alg);
		h.update(view);
		h.update(new Uint8Array(backing.buffer, backing.byteOffset + 1, 3));
		h.update(new Uint8Array(0));
		expect(h.digest()).toBe(
			reference(alg, view, new Uint8Array(backing.buffer, backing.byteOffset + 1, 3)),
		);
	});

	it("accepts stale bytes after the pending ones, as older Go versions wrote them", () => {
		const data = bytes(block + 10, 9);
		const h = createHash(alg);
		h.update(data.subarray(0, block + 3));
		const state = h.save();
		const offset = 4 + 8 * (alg === "sha256" ? 4 : 8);
		state.fill(0xa5, offset + 3, offset + block);
		const resumed = createHash(alg, state);
		resumed.update(data.subarray(block + 3));
		expect(resumed.digest()).toBe(reference(alg, data));
		// What we write ourselves is zero-filled, like current Go.
		expect(
			resumed
				.save()
				.subarray(offset + 10, offset + block)
				.every((b) => b === 0),
		).toBe(true);
	});

	describe("rejects malformed states with HashStateError", () => {
		const good = () => {
			const h = createHash(alg);
			h.update(bytes(block + 1, 1));
			return h.save();
		};
		const cases: [string, () => unknown][] = [
			["empty", () => new Uint8Array(0)],
			["too short", () => good().subarray(0, good().length - 1)],
			["too long", () => Uint8Array.from([...good(), 0])],
			["bad magic", () => Uint8Array.from(good(), (b, i) => (i === 0 ? 0x78 : b))],
			["another algorithm", () => (alg === "sha256" ? sha512State() : sha256State())],
			["sha224 / sha384 magic", () => Uint8Array.from(good(), (b, i) => (i === 3 ? b + 1 : b))],
			["unknown version", () => Uint8Array.from(good(), (b, i) => (i === 3 ? 0x7f : b))],
			["a hash-wasm state", () => new Uint8Array(alg === "sha256" ? 116 : 212)],
			[
				"absurd byte count",
				() => Uint8Array.from(good(), (b, i) => (i === good().length - 8 ? 0x7f : b)),
			],
			["not bytes", () => "sha\x03" as unknown],
		];
		it.each(cases)("%s", (_name, make) => {
			const state = make() as Uint8Array;
			let error: unknown;
			try {
				createHash(alg, state);
			} catch (err) {
				error = err;
			}
			expect(error).toBeInstanceOf(HashStateError);
			expect((error as HashStateError).code).toBe("HASH_STATE_INVALID");
			expect((error as HashStateError).cause).toBeDefined();
		});
	});
});

function sha256State(): Uint8Array {
	return createHash("sha256").save();
}
function sha512State(): Uint8Array {
	return createHash("sha512").save();
}

describe(`Go MarshalBinary compatibility (${hashBackend})`, () => {
	// halfState vectors from Go's own tests (golang/go src/crypto/sha256/sha256_test.go, `golden`):
	// the state crypto/sha256 marshals after writing the first len(in)/2 bytes of `in`, decoded from
	// the Go string literals to hex.
	const goSha256 = [
		{
			in: "abc",
			out: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
			half: `736861036a09e667bb67ae853c6ef372a54ff53a510e527f9b05688c1f83d9ab5be0cd19
				61${"00".repeat(63)} 0000000000000001`,
		},
		{
			in: "Discard medicine more than two years old.",
			out: "a144061c271f152da4d151034508fed1c138b8c976339de229c3bb6d4bbb4fce",
			half: `736861036a09e667bb67ae853c6ef372a54ff53a510e527f9b05688c1f83d9ab5be0cd19
				44697363617264206d65646963696e65206d6f72${"00".repeat(44)} 0000000000000014`,
		},
		{
			// 66 bytes in: one block compressed, so h is no longer the initial value.
			in: "The fugacity of a constituent in a mixture of gases at a given temperature is proportional to its mole fraction.  Lewis-Randall Rule",
			out: "395585ce30617b62c80b93e8208ce866d4edc811a177fdb4b82d3911d8696423",
			half: `736861039314c87a870e0b6ff1450fa456b2610087b5c794fcea56c29e67bc17b185d19a
				656d${"00".repeat(62)} 0000000000000042`,
		},
	];

	it.each(goSha256)("sha256 state after half of $in equals Go's, and resumes", (v) => {
		const input = new TextEncoder().encode(v.in);
		const half = input.length >> 1;
		const h = createHash("sha256");
		h.update(input.subarray(0, half));
		expect(hex(h.save())).toBe(hex(fromHex(v.half)));
		const resumed = createHash("sha256", fromHex(v.half));
		resumed.update(input.subarray(half));
		expect(resumed.digest()).toBe(v.out);
	});

	it("sha512 state after 'abc' has the layout the spec gives", () => {
		// No block compressed: h is the initial value, the block holds "abc", the count is 3.
		const expected = fromHex(`73686107
			6a09e667f3bcc908 bb67ae8584caa73b 3c6ef372fe94f82b a54ff53a5f1d36f1
			510e527fade682d1 9b05688c2b3e6c1f 1f83d9abfb41bd6b 5be0cd19137e2179
			616263${"00".repeat(125)} 0000000000000003`);
		const h = createHash("sha512");
		h.update(new TextEncoder().encode("abc"));
		expect(hex(h.save())).toBe(hex(expected));
		const resumed = createHash("sha512", expected);
		expect(resumed.digest()).toBe(reference("sha512", new TextEncoder().encode("abc")));
	});

	it("sha512 records a 64-bit byte count and block-aligned state", () => {
		const data = bytes(3 * 128, 4);
		const h = createHash("sha512");
		h.update(data);
		const state = h.save();
		expect(hex(state.subarray(68, 68 + 128))).toBe("00".repeat(128));
		expect(hex(state.subarray(196))).toBe("0000000000000180");
	});
});
