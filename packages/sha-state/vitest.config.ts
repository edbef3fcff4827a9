import { defineConfig } from "vitest/config";

// The backend is chosen when src/index.ts loads, from the environment, so the generic suite runs
// twice: once with the default choice (native when built) and once forced onto hash-wasm.
export default defineConfig({
	test: {
		projects: [
			{
				test: {
					name: "default",
					include: ["test/**/*.test.ts"],
					env: { STOWAGE_HASH_BACKEND: "" },
				},
			},
			{
				test: {
					name: "wasm",
					include: ["test/hash.test.ts"],
					env: { STOWAGE_HASH_BACKEND: "wasm" },
				},
			},
		],
	},
});
