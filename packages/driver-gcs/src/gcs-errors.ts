import {
	type DriverError,
	OperationAbortedError,
	PathNotFoundError,
	StorageDriverError,
} from "@stowage/core";

/** An HTTP answer from GCS that the driver did not expect, with the body GCS sent. */
export class GcsHttpError extends Error {
	constructor(
		readonly status: number,
		message: string,
	) {
		super(`HTTP ${status}: ${message}`);
		this.name = "GcsHttpError";
	}
}

/** The resumable session is gone (expired after a week, or cancelled): its bytes are lost. */
export class SessionLostError extends Error {
	constructor(
		readonly status: number,
		detail: string,
	) {
		super(`resumable upload session lost (HTTP ${status}): ${detail}`);
		this.name = "SessionLostError";
	}
}

/**
 * The HTTP status of an error from the SDK (ApiError.code), from gaxios (`status`), or ours.
 * Network errors have none.
 */
export function httpStatus(err: unknown): number | undefined {
	const e = err as { code?: unknown; status?: unknown; response?: { status?: unknown } } | null;
	if (!e || typeof e !== "object") return undefined;
	if (typeof e.code === "number") return e.code;
	if (typeof e.status === "number") return e.status;
	if (typeof e.response?.status === "number") return e.response.status;
	return undefined;
}

export const isNotFound = (err: unknown) => httpStatus(err) === 404;
export const isPreconditionFailed = (err: unknown) => httpStatus(err) === 412;

const NETWORK_CODES = new Set([
	"ECONNRESET",
	"ECONNREFUSED",
	"ECONNABORTED",
	"ETIMEDOUT",
	"EPIPE",
	"EAI_AGAIN",
	"ENETUNREACH",
	"EHOSTUNREACH",
	"UND_ERR_SOCKET",
	"UND_ERR_CLOSED",
	"UND_ERR_CONNECT_TIMEOUT",
	"UND_ERR_HEADERS_TIMEOUT",
	"UND_ERR_BODY_TIMEOUT",
	"ERR_STREAM_PREMATURE_CLOSE",
]);

/**
 * Transient: 408, 429 and 5xx (but 501), connection failures and our own request timeouts.
 * Looks through `cause` chains (fetch wraps the socket error in a TypeError).
 */
export function isRetryable(err: unknown): boolean {
	for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
		const status = httpStatus(e);
		if (status !== undefined)
			return status === 408 || status === 429 || (status >= 500 && status !== 501);
		const x = e as { code?: unknown; name?: unknown; message?: unknown };
		if (typeof x.code === "string" && NETWORK_CODES.has(x.code)) return true;
		if (x.name === "TimeoutError") return true;
		if (
			typeof x.message === "string" &&
			/socket hang up|other side closed|premature close/i.test(x.message)
		) {
			return true;
		}
	}
	return false;
}

/** An error was caused by the operation's own signal. */
export function isAbort(err: unknown, signal?: AbortSignal): boolean {
	return signal?.aborted === true || (err as { name?: unknown } | null)?.name === "AbortError";
}

/**
 * The one place backend errors become driver errors: a 404 is PathNotFoundError for the path
 * the caller named, an abort is OperationAbortedError, anything else StorageDriverError; the
 * original error is the `cause` of each.
 */
export function toDriverError(
	driver: string,
	op: string,
	path: string,
	err: unknown,
	signal?: AbortSignal,
): DriverError {
	if (err instanceof PathNotFoundError || err instanceof StorageDriverError) return err;
	if ((err as DriverError | null)?.driver === driver) return err as DriverError;
	if (isAbort(err, signal)) return new OperationAbortedError(driver, op, { cause: err });
	if (isNotFound(err)) return new PathNotFoundError(driver, path, { cause: err });
	const detail = err instanceof Error ? err.message : String(err);
	return new StorageDriverError(driver, `${op} ${path}: ${detail}`, { cause: err });
}
