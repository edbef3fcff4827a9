export {
	type CliOverrides,
	ConfigError,
	loadConfig,
	parseAddr,
	parseDuration,
	type StowageConfig,
} from "./config.js";
export { DRIVER_PACKAGES, loadDriver } from "./drivers.js";
export type { AppSettings } from "./http/context.js";
export { HttpError, type OciErrorResponse, toOciError } from "./http/errors.js";
export { type OciRoute, parseOciPath } from "./http/oci-path.js";
export { parseContentRange, parseRange, uploadRange } from "./http/ranges.js";
export { createLogger } from "./logger.js";
export { type Purger, startUploadPurger } from "./purger.js";
export { type RunningServer, serve } from "./serve.js";
export { type AppOptions, createApp } from "./server.js";
