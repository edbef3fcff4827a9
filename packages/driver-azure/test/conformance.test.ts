import { driverSuite } from "@stowage/driver-conformance";
import { inject, it } from "vitest";
import { driverAt, uniqueRoot } from "./target.js";

const MiB = 1024 * 1024;
const target = inject("azure");

// A fresh root directory per case: the cases share one container, and each still starts from
// an empty `list("/")`.
driverSuite(it, () => driverAt(target, uniqueRoot("conformance")), {
	// Distribution runs the large append case with 4 MiB chunks on Azure.
	appendChunkSize: 4 * MiB,
	largeFileSize: 128 * MiB,
	concurrentWriters: 8,
	// Azurite (and Azure) keep Last-Modified to the second.
	modTimeDelayMs: 1100,
});
