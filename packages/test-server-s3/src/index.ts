export type { ServerLimits } from "./context.js";
export { S3Error } from "./errors.js";
export type { FaultKind, FaultSpec } from "./faults.js";
export { Faults, Stats } from "./faults.js";
export {
	DEFAULT_LIMITS,
	type S3TestServer,
	type S3TestServerOptions,
	startS3TestServer,
} from "./server.js";
export type { Bucket, MultipartUpload, Store, StoredObject } from "./store.js";
