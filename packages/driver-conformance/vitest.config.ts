import { defineConfig } from "vitest/config";

export default defineConfig({
	test: {
		include: ["test/**/*.test.ts"],
		// The suite sets per-test timeouts for its heavy cases; this covers everything else.
		testTimeout: 60_000,
		hookTimeout: 60_000,
	},
});
