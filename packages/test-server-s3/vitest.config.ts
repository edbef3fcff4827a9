import { defineConfig } from "vitest/config";

export default defineConfig({
	test: {
		include: ["test/**/*.test.ts"],
		fileParallelism: false,
		// The SDK warns once per process that Node 20 support ends in 2027; not news in a test log.
		env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
		testTimeout: 30_000,
	},
});
