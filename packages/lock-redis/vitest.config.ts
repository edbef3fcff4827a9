import { defineConfig } from "vitest/config";

export default defineConfig({
	test: {
		include: ["test/**/*.test.ts"],
		// One redis-server for the whole run, on a free port, stopped at the end.
		globalSetup: ["test/global-setup.ts"],
		testTimeout: 20_000,
	},
});
