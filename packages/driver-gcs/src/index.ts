/** The registry app's loader tries `createDriver` first. */
export { createGcsDriver, createGcsDriver as createDriver, GcsDriver } from "./gcs-driver.js";
export type { GcsDriverOptions, RetryOptions, ServiceAccountCredentials } from "./options.js";
export { CHUNK_GRANULARITY } from "./options.js";
