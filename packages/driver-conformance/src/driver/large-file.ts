import type { StorageDriver } from "@stowage/core";
import { type Digest, digestStream, formatSize, MiB, seededBlocks, writeChunks } from "./data.js";
import { driverTests } from "./harness.js";
import {
	type DriverFactory,
	type DriverSuiteOptions,
	resolveOptions,
	type TestFunction,
} from "./options.js";

/** Peak RSS above the level at start, sampled on a timer and at every chunk. */
class RssSampler {
	private readonly baseline = process.memoryUsage.rss();
	private peak = this.baseline;
	private readonly timer = setInterval(() => this.sample(), 10);

	constructor() {
		this.timer.unref();
	}

	readonly sample = (): void => {
		const rss = process.memoryUsage.rss();
		if (rss > this.peak) this.peak = rss;
	};

	/** Stop sampling and return the peak growth in bytes. */
	stop(): number {
		clearInterval(this.timer);
		this.sample();
		return this.peak - this.baseline;
	}
}

interface RoundTrip {
	written: Digest;
	read: Digest;
	writerSize: number;
	statSize: number;
}

/** Stream `size` seeded bytes through writer → commit, then read them back, hashing both ways. */
async function roundTrip(
	driver: StorageDriver,
	path: string,
	size: number,
	onChunk?: () => void,
): Promise<RoundTrip> {
	const writer = await driver.writer(path);
	const written = await writeChunks(writer, seededBlocks(path, size), onChunk);
	const writerSize = writer.size;
	await writer.commit();
	const statSize = (await driver.stat(path)).size;
	const read = await digestStream(await driver.reader(path), onChunk);
	return { written, read, writerSize, statSize };
}

/** Generous: slow backends stream at a few MiB/s, and the digest runs both ways. */
function timeoutFor(size: number): number {
	return 120_000 + Math.ceil(size / MiB) * 500;
}

export function largeFileTests(
	test: TestFunction,
	factory: DriverFactory,
	options?: DriverSuiteOptions,
): void {
	const it = driverTests(test, factory, options);
	const o = resolveOptions(options);
	const label = formatSize(o.largeFileSize);

	// Distribution 16 (5 GiB there; 1 GiB by default here, see DriverSuiteOptions.largeFileSize).
	it(
		`large streamed file (${label}) round-trips with matching sha256`,
		async ({ expect, driver, root, options }) => {
			const size = options.largeFileSize;
			const r = await roundTrip(driver, `${root()}/large/data`, size);
			expect(r.written.size).toBe(size);
			expect(r.writerSize).toBe(size);
			expect(r.statSize).toBe(size);
			expect(r.read.size).toBe(size);
			expect(r.read.sha256).toBe(r.written.sha256);
		},
		timeoutFor(o.largeFileSize),
	);

	// A driver whose content lives elsewhere must stream: memory may not grow with the file.
	it(
		`large streamed file (${label}) keeps RSS growth under ${formatSize(o.maxRssGrowthBytes)}`,
		async ({ ctx, expect, driver, root, options }) => {
			if (driver.capabilities.inProcess) {
				ctx.skip("capabilities.inProcess: the driver keeps content in this process's memory");
			}
			const size = options.largeFileSize;
			const sampler = new RssSampler();
			const r = await roundTrip(driver, `${root()}/large/data`, size, sampler.sample).finally(() =>
				sampler.stop(),
			);
			const growth = sampler.stop();
			expect(r.read.sha256).toBe(r.written.sha256);
			expect(r.read.size).toBe(size);
			expect(growth, "peak RSS growth while streaming (bytes)").toBeLessThan(
				options.maxRssGrowthBytes,
			);
		},
		timeoutFor(o.largeFileSize),
	);
}
