import { defineConfig } from "vitest/config";

// One Azurite (or one real account) serves every file: files run one after another, and each
// case uses its own random root so cases never see each other's blobs.
export default defineConfig({
	test: {
		include: ["test/**/*.test.ts"],
		globalSetup: ["test/global-setup.ts"],
		fileParallelism: false,
		maxWorkers: 1,
		testTimeout: 120_000,
		hookTimeout: 60_000,
	},
});
