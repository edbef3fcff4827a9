import { createMemoryDriver } from "@stowage/driver-memory";
import { it } from "vitest";
import { uploadEngineSuite } from "../src/index.js";

uploadEngineSuite(it, () => createMemoryDriver(), { largeChunkSize: 4 * 1024 * 1024 });
