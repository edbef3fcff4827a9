export type { FaultRule, Faults, InjectedFault, Operation } from "./faults.js";
export { CHUNK_GRANULARITY } from "./resumable.js";
export {
	type GcsTestServer,
	type GcsTestServerOptions,
	type RequestRecord,
	startGcsTestServer,
} from "./server.js";
export type { ServiceAccountKey } from "./signed-urls.js";
