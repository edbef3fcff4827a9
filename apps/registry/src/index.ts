export type { AccessController, AuthResult, Grant } from "./auth/controller.js";
export { type AccessGate, createGate } from "./auth/gate.js";
export { HtpasswdController } from "./auth/htpasswd.js";
export { createAccessGate } from "./auth/index.js";
export { type Access, requiredAccess, SCOPE_TABLE } from "./auth/scopes.js";
export { TokenController } from "./auth/token.js";
export {
	type CliOverrides,
	ConfigError,
	loadConfig,
	parseAddr,
	parseDuration,
	type StowageConfig,
} from "./config.js";
export { DRIVER_PACKAGES, loadDriver } from "./drivers.js";
export { type Collector, startCollector } from "./gc-scheduler.js";
export type { AppSettings } from "./http/context.js";
export { HttpError, type OciErrorResponse, toOciError } from "./http/errors.js";
export { type OciRoute, parseOciPath } from "./http/oci-path.js";
export { parseContentRange, parseRange, uploadRange } from "./http/ranges.js";
export { createLogger } from "./logger.js";
export { meteredDriver } from "./metered-driver.js";
export { Metrics } from "./metrics.js";
export { type Purger, startUploadPurger } from "./purger.js";
export type { AuthSettings, TlsSettings } from "./security-config.js";
export { type RunningServer, serve } from "./serve.js";
export { type AppOptions, createApp } from "./server.js";
export { type HttpsOptions, httpsOptions } from "./tls.js";
