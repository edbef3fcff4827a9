import type { StorageDriver } from "@stowage/core";
import type { ExpectStatic } from "vitest";

const MiB = 1024 * 1024;

/** What the suite needs from a test context: vitest's `ctx`, so assertions bind to the caller's run. */
export interface SuiteTestContext {
	readonly expect: ExpectStatic;
	/** Marks the test skipped; the suite calls it only for a capability the driver declares. */
	readonly skip: (note?: string) => never;
}

/** The runner's `test`/`it`; passed in so the suite never imports the runner's globals itself. */
export type TestFunction = (
	name: string,
	fn: (ctx: SuiteTestContext) => Promise<void> | void,
	timeout?: number,
) => void;

/** Returns a fresh driver per test. Drivers may share a backend: every test uses random paths. */
export type DriverFactory = () => StorageDriver | Promise<StorageDriver>;

export interface DriverSuiteOptions {
	/** Size of the large streamed file; default 1 GiB. The env var STOWAGE_LARGE_FILE_MB overrides. */
	largeFileSize?: number;
	/** Chunk size for the "append large" case (Distribution uses 10 MiB; 4 MiB on Azure). */
	appendChunkSize?: number;
	/** Size of the file read by concurrent readers; default 32 MiB. */
	concurrentReadersFileSize?: number;
	/** Number of concurrent readers; default 10. */
	concurrentReaders?: number;
	/** Number of concurrent writers, each to its own file; default 32. */
	concurrentWriters?: number;
	/** Bytes each concurrent writer streams; default 8 MiB. */
	concurrentWriterSize?: number;
	/** Delay between the two writes in the modTime test; default 20 ms (object stores: 1100). */
	modTimeDelayMs?: number;
	/** Max growth of process RSS while streaming the large file; default 256 MiB. */
	maxRssGrowthBytes?: number;
	/** Fetches redirect URLs (e.g. undici's fetch); default the global fetch. */
	fetch?: typeof globalThis.fetch;
	/** Timeout of an ordinary test in ms; default 30 s (the big cases scale their own). */
	timeout?: number;
	/** The driver's readers offer `fill` (FillableReadable); default false. Checked both ways. */
	fillableReader?: boolean;
}

export type ResolvedOptions = Required<DriverSuiteOptions>;

export function resolveOptions(options: DriverSuiteOptions = {}): ResolvedOptions {
	return {
		largeFileSize: envLargeFileSize() ?? options.largeFileSize ?? 1024 * MiB,
		appendChunkSize: options.appendChunkSize ?? 10 * MiB,
		concurrentReadersFileSize: options.concurrentReadersFileSize ?? 32 * MiB,
		concurrentReaders: options.concurrentReaders ?? 10,
		concurrentWriters: options.concurrentWriters ?? 32,
		concurrentWriterSize: options.concurrentWriterSize ?? 8 * MiB,
		modTimeDelayMs: options.modTimeDelayMs ?? 20,
		maxRssGrowthBytes: options.maxRssGrowthBytes ?? 256 * MiB,
		fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
		timeout: options.timeout ?? 30_000,
		fillableReader: options.fillableReader ?? false,
	};
}

/** CI can shrink or grow the large file without touching driver packages. */
function envLargeFileSize(): number | undefined {
	const raw = process.env.STOWAGE_LARGE_FILE_MB;
	if (raw === undefined || raw.trim() === "") return undefined;
	const mb = Number(raw);
	if (!Number.isFinite(mb) || mb <= 0) {
		throw new Error(`STOWAGE_LARGE_FILE_MB must be a positive number, got ${JSON.stringify(raw)}`);
	}
	return Math.round(mb * MiB);
}
