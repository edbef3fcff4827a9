// Backend selection happens at module load; re-import src/index.ts under different environments.
import { afterEach, describe, expect, it, vi } from "vitest";

async function load() {
	vi.resetModules();
	return import("../src/index.js");
}

function withoutAddon() {
	vi.doMock("../src/native.js", async (importOriginal) => ({
		...(await importOriginal<typeof import("../src/native.js")>()),
		loadAddon: () => ({ error: new Error("simulated: addon not built") }),
	}));
}

afterEach(() => {
	vi.unstubAllEnvs();
	vi.doUnmock("../src/native.js");
});

describe("backend selection", () => {
	it("STOWAGE_HASH_BACKEND=wasm forces the fallback", async () => {
		vi.stubEnv("STOWAGE_HASH_BACKEND", "wasm");
		const mod = await load();
		expect(mod.hashBackend).toBe("wasm");
		const h = mod.createHash("sha256");
		h.update(new TextEncoder().encode("abc"));
		expect(h.digest()).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	});

	it("rejects an unknown STOWAGE_HASH_BACKEND", async () => {
		vi.stubEnv("STOWAGE_HASH_BACKEND", "fast");
		await expect(load()).rejects.toThrow(/STOWAGE_HASH_BACKEND/);
	});

	it("falls back to wasm when the addon does not load", async () => {
		vi.stubEnv("STOWAGE_HASH_BACKEND", "");
		vi.stubEnv("STOWAGE_REQUIRE_NATIVE_HASH", "");
		withoutAddon();
		const mod = await load();
		expect(mod.hashBackend).toBe("wasm");
		expect(mod.createHash("sha512").digest()).toMatch(/^cf83e135/);
	});

	it("STOWAGE_REQUIRE_NATIVE_HASH=1 makes a missing addon fatal", async () => {
		vi.stubEnv("STOWAGE_HASH_BACKEND", "");
		vi.stubEnv("STOWAGE_REQUIRE_NATIVE_HASH", "1");
		withoutAddon();
		await expect(load()).rejects.toThrow(/native hash addon did not load/);
	});

	it("STOWAGE_HASH_BACKEND=native makes a missing addon fatal", async () => {
		vi.stubEnv("STOWAGE_HASH_BACKEND", "native");
		withoutAddon();
		await expect(load()).rejects.toThrow(/native hash addon did not load/);
	});

	it("rejects unsupported algorithms with a TypeError", async () => {
		const mod = await load();
		expect(() => mod.createHash("md5" as "sha256")).toThrow(TypeError);
	});
});
