import { abortTests } from "./abort.js";
import { appendTests } from "./append.js";
import { concurrencyTests } from "./concurrency.js";
import { deleteTests } from "./delete.js";
import { fillTests } from "./fill.js";
import { largeFileTests } from "./large-file.js";
import { listTests } from "./list.js";
import { moveTests } from "./move.js";
import type { DriverFactory, DriverSuiteOptions, TestFunction } from "./options.js";
import { pathTests } from "./paths.js";
import { readWriteTests } from "./read-write.js";
import { redirectTests } from "./redirect.js";
import { statTests } from "./stat.js";
import { streamTests } from "./stream.js";
import { walkTests } from "./walk.js";

/** The groups in the order they run: cheap contract checks first, heavy streaming last. */
export const driverTestGroups = [
	pathTests,
	readWriteTests,
	streamTests,
	fillTests,
	appendTests,
	listTests,
	moveTests,
	deleteTests,
	statTests,
	redirectTests,
	walkTests,
	abortTests,
	concurrencyTests,
	largeFileTests,
] as const;

/**
 * Register the whole driver conformance suite with the runner:
 * `driverSuite(it, () => createMyDriver(), { largeFileSize: 64 * 1024 * 1024 })`.
 * Cases must run one at a time (vitest's default within a file): each ends by asserting that
 * `list("/")` is empty. Paths are random, so one backend can serve every case and every run,
 * but nothing else may write to it meanwhile.
 */
export function driverSuite(
	test: TestFunction,
	factory: DriverFactory,
	options?: DriverSuiteOptions,
): void {
	for (const group of driverTestGroups) group(test, factory, options);
}
