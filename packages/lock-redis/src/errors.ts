import { StowageError } from "@stowage/core";

/**
 * Redis could not be asked (down, unreachable, too slow). The registry answers 503 so that the
 * client retries: whether the upload is free is unknown, not refused.
 */
export class LockServiceError extends StowageError {
	readonly code = "UNAVAILABLE";
}

/** The lease ran out, or another holder took the key, before the holder released it. */
export class LockLostError extends StowageError {
	readonly code = "UNAVAILABLE";
}
