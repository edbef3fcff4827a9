import { createMemoryDriver } from "@stowage/driver-memory";
import { it } from "vitest";
import { driverSuite } from "../src/index.js";

const MiB = 1024 * 1024;

// The suite's self-test: the whole suite against the in-memory driver. The large file is smaller
// than the 1 GiB default because an in-process driver holds it in RAM (STOWAGE_LARGE_FILE_MB
// still overrides).
driverSuite(it, () => createMemoryDriver(), { largeFileSize: 256 * MiB, fillableReader: true });
