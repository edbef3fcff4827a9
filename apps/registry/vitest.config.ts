import { defineConfig } from "vitest/config";

export default defineConfig({
	test: {
		include: ["test/**/*.test.ts"],
		// Two cores: the HTTP and client suites start servers and processes; run files one by one.
		fileParallelism: false,
		testTimeout: 20_000,
		hookTimeout: 60_000,
	},
});
