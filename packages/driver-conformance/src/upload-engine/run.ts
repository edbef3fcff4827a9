import type { Registry } from "@stowage/core";
import type { ExpectStatic } from "vitest";
import {
	type EngineDriverFactory,
	type EngineFixture,
	type EngineTestFunction,
	fixture,
	type UploadEngineSuiteOptions,
} from "./support.js";

export interface EngineCase {
	expect: ExpectStatic;
	f: EngineFixture;
	registry: Registry;
}

/** Register one case: a fresh driver and engine, the body, then the store emptied either way. */
export function engineCase(
	test: EngineTestFunction,
	factory: EngineDriverFactory,
	options: UploadEngineSuiteOptions,
	name: string,
	fn: (c: EngineCase) => Promise<void>,
	extra: Parameters<typeof fixture>[2] = {},
): void {
	test(
		`upload engine: ${name}`,
		async ({ expect }) => {
			const f = await fixture(factory, options, extra);
			try {
				await fn({ expect, f, registry: f.registry });
			} finally {
				await f.cleanup();
			}
		},
		options.timeout ?? 60_000,
	);
}
