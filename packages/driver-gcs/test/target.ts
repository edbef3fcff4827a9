import { randomBytes } from "node:crypto";
import type { StorageDriver } from "@stowage/core";
import { inject } from "vitest";
import { createGcsDriver, type GcsDriverOptions } from "../src/index.js";

/** Where the tests run: the loopback test server, or a real bucket named by the environment. */
export interface GcsTarget {
	kind: "test-server" | "bucket";
	bucket: string;
	apiEndpoint?: string;
	projectId: string;
	credentials?: { client_email: string; private_key: string };
	keyfile?: string;
}

declare module "vitest" {
	export interface ProvidedContext {
		gcs: GcsTarget;
	}
}

export function target(): GcsTarget {
	const t = inject("gcs");
	if (!t) throw new Error("the GCS target was not provided: is test/global-setup.ts configured?");
	return t;
}

/** Fast retries in tests: injected faults should not cost seconds each. */
export const FAST_RETRY = { maxAttempts: 6, baseDelayMs: 5, maxDelayMs: 50 };

/** Driver options for the target, under a fresh random root directory. */
export function driverOptions(extra: Partial<GcsDriverOptions> = {}): GcsDriverOptions {
	const t = target();
	return {
		bucket: t.bucket,
		projectId: t.projectId,
		rootdirectory: `/stowage-test/${randomBytes(6).toString("hex")}`,
		retry: FAST_RETRY,
		...(t.apiEndpoint !== undefined && { apiEndpoint: t.apiEndpoint }),
		...(t.credentials !== undefined && { credentials: t.credentials }),
		...(t.keyfile !== undefined && { keyfile: t.keyfile }),
		...extra,
	};
}

const optionsOfDriver = new WeakMap<StorageDriver, GcsDriverOptions>();

/** Root directories handed out in this file, to check that nothing was left behind. */
export const rootsMade: string[] = [];

/** A driver under a fresh root; `reopen` gives another instance over the same root. */
export function freshDriver(extra: Partial<GcsDriverOptions> = {}): StorageDriver {
	const options = driverOptions(extra);
	rootsMade.push(options.rootdirectory as string);
	const driver = createGcsDriver(options);
	optionsOfDriver.set(driver, options);
	return driver;
}

/** The options a driver from freshDriver was made with (its root directory among them). */
export function optionsOf(driver: StorageDriver): GcsDriverOptions {
	const o = optionsOfDriver.get(driver);
	if (!o) throw new Error("not a driver made by freshDriver");
	return o;
}

/** Another process's view: a new driver (and client) over the same bucket and root. */
export function reopen(
	driver: StorageDriver,
	extra: Partial<GcsDriverOptions> = {},
): StorageDriver {
	const options = optionsOfDriver.get(driver);
	if (!options) throw new Error("reopen: not a driver made by freshDriver");
	const again = createGcsDriver({ ...options, ...extra });
	optionsOfDriver.set(again, { ...options, ...extra });
	return again;
}
