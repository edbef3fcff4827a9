// The driver conformance suite. Each group is exported on its own so a driver package can run a
// subset; `driverSuite` runs them all. Further suites (the upload engine's) live in their own
// folders and are re-exported here.
export { abortTests } from "./driver/abort.js";
export { appendTests } from "./driver/append.js";
export { concurrencyTests } from "./driver/concurrency.js";
export { deleteTests } from "./driver/delete.js";
export type { DefineDriverTest, DriverTestBody, DriverTestContext } from "./driver/harness.js";
export { driverTests, expectBytes, expectDriverError } from "./driver/harness.js";
export { largeFileTests } from "./driver/large-file.js";
export { listTests } from "./driver/list.js";
export { moveTests } from "./driver/move.js";
export type {
	DriverFactory,
	DriverSuiteOptions,
	SuiteTestContext,
	TestFunction,
} from "./driver/options.js";
export { pathTests } from "./driver/paths.js";
export { readWriteTests } from "./driver/read-write.js";
export { redirectTests } from "./driver/redirect.js";
export { statTests } from "./driver/stat.js";
export { streamTests } from "./driver/stream.js";
export { driverSuite, driverTestGroups } from "./driver/suite.js";
export { walkTests } from "./driver/walk.js";
export * from "./upload-engine/index.js";
