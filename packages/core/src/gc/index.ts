export * from "./collect.js";
export {
	CollectionFence,
	type FencedReference,
	type FenceOptions,
	TOMBSTONE_LEASE_MS,
	TOMBSTONE_MARGIN_MS,
} from "./fence.js";
export {
	CollectionInProgressError,
	MARKER_HEARTBEAT_MS,
	MARKER_STALE_MS,
	MARKER_TRUST_MS,
} from "./marker.js";
export { GcPaths } from "./paths.js";
export * from "./types.js";
