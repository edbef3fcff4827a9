export { UploadGoneError } from "./errors.js";
export { STATE_TREE } from "./keys.js";
export { type S3DriverOptions, S3OptionsError } from "./options.js";
export { createS3Driver, S3Driver } from "./s3-driver.js";

import { createS3Driver } from "./s3-driver.js";

/** The generic factory name the registry's config loader looks for first. */
export const createDriver = createS3Driver;
