import type { StorageDriver } from "@stowage/core";
import { uploadEngineSuite } from "@stowage/driver-conformance";
import { inject, it } from "vitest";
import { driverAt, uniqueRoot } from "./target.js";

const target = inject("azure");
const roots = new WeakMap<StorageDriver, string>();

function open(): StorageDriver {
	const root = uniqueRoot("engine");
	const driver = driverAt(target, root);
	roots.set(driver, root);
	return driver;
}

// `reopen` is another AzureDriver over the same container and root: another process's view,
// sharing nothing in memory with the first.
uploadEngineSuite(it, open, {
	reopen: (driver) => driverAt(target, roots.get(driver) as string),
	largeChunkSize: 4 * 1024 * 1024,
});
