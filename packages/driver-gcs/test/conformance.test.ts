import { driverSuite, uploadEngineSuite } from "@stowage/driver-conformance";
import { afterAll, describe, expect, it } from "vitest";
import { leftovers } from "./helpers.js";
import { freshDriver, reopen, rootsMade, target } from "./target.js";

const MiB = 1024 * 1024;

// Every case gets a driver under its own random root directory in the shared bucket; a 1 MiB
// chunk size sends every upload larger than that through resumable sessions.
const open = () => freshDriver({ chunksize: MiB });
const real = target().kind === "bucket";

driverSuite(it, open, {
	largeFileSize: 128 * MiB,
	appendChunkSize: 10 * MiB,
	concurrentWriterSize: 4 * MiB,
	// Real GCS keeps millisecond times too, but clocks between requests are not ours.
	modTimeDelayMs: real ? 1100 : 20,
});

uploadEngineSuite(it, open, { reopen: (d) => reopen(d), largeChunkSize: 4 * MiB });

// Again with the default 16 MiB chunk size, where every session's bytes fit one request.
describe("default chunk size", () => {
	uploadEngineSuite(it, () => freshDriver(), { reopen: (d) => reopen(d), largeChunkSize: 4 * MiB });
});

// list("/") being empty after each case does not see hidden objects at the top level: look at
// the raw bucket for anything the cases left behind (upload parts included).
afterAll(async () => {
	expect(await leftovers(rootsMade)).toEqual([]);
}, 120_000);
