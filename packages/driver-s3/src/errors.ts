import { OperationAbortedError, PathNotFoundError, StorageDriverError } from "@stowage/core";

/**
 * The one place SDK errors are classified. The SDK reports a code as `name` (and sometimes
 * `Code`), and HEAD responses carry no body, so a 404 HEAD is just "NotFound".
 */
interface SdkErrorLike {
	name?: string;
	Code?: string;
	code?: string;
	message?: string;
	$metadata?: { httpStatusCode?: number; attempts?: number };
	$retryable?: unknown;
}

export function errorCode(err: unknown): string | undefined {
	const e = err as SdkErrorLike | null;
	return e?.Code ?? e?.name;
}

export function httpStatus(err: unknown): number | undefined {
	return (err as SdkErrorLike | null)?.$metadata?.httpStatusCode;
}

/** A missing object. NoSuchUpload and NoSuchBucket are not: they mean something else. */
export function isNotFound(err: unknown): boolean {
	const code = errorCode(err);
	if (code === "NoSuchKey" || code === "NotFound") return true;
	return httpStatus(err) === 404 && code !== "NoSuchUpload" && code !== "NoSuchBucket";
}

/** The multipart upload is gone: completed, aborted or expired. Never "the file is missing". */
export function isNoSuchUpload(err: unknown): boolean {
	return errorCode(err) === "NoSuchUpload";
}

export function isInvalidRange(err: unknown): boolean {
	return errorCode(err) === "InvalidRange" || httpStatus(err) === 416;
}

export function isPreconditionFailed(err: unknown): boolean {
	return errorCode(err) === "PreconditionFailed" || httpStatus(err) === 412;
}

/** The backend lacks the operation (s3rver answers 501 or 405 for multipart listing). */
export function isUnsupported(err: unknown): boolean {
	const status = httpStatus(err);
	const code = errorCode(err);
	return (
		status === 501 || status === 405 || code === "NotImplemented" || code === "MethodNotAllowed"
	);
}

export function isAbort(err: unknown, signal?: AbortSignal): boolean {
	return signal?.aborted === true || errorCode(err) === "AbortError";
}

const TRANSIENT_CODES = new Set([
	"SlowDown",
	"Throttling",
	"ThrottlingException",
	"RequestTimeout",
	"RequestTimeoutException",
	"InternalError",
	"ServiceUnavailable",
	"TimeoutError",
	"ECONNRESET",
	"ECONNREFUSED",
	"EPIPE",
	"ETIMEDOUT",
	"ERR_STREAM_PREMATURE_CLOSE",
]);

/** Worth retrying: 5xx, throttling, timeouts, and connections that broke mid-transfer. */
export function isTransient(err: unknown): boolean {
	const e = err as SdkErrorLike | null;
	if (!e || typeof e !== "object") return false;
	const status = httpStatus(err);
	if (status !== undefined && status >= 500) return true;
	if (TRANSIENT_CODES.has(errorCode(err) ?? "") || TRANSIENT_CODES.has(e.code ?? "")) return true;
	// Node reports a response cut short as "aborted" (IncomingMessage) or a premature close.
	return e.message === "aborted" || e instanceof TruncatedBodyError;
}

/** A body ended before its Content-Length: the connection dropped without an error event. */
export class TruncatedBodyError extends Error {
	constructor(expected: number, got: number) {
		super(`response body ended after ${got} of ${expected} bytes`);
		this.name = "TruncatedBodyError";
	}
}

/**
 * The multipart upload behind an uncommitted file no longer exists (completed by a commit whose
 * cleanup did not finish, aborted, or expired by a lifecycle rule). Distinct from
 * PathNotFoundError on purpose: treating it as "missing" would report a false completion.
 */
export class UploadGoneError extends StorageDriverError {
	constructor(
		driver: string,
		readonly path: string,
		options?: { cause?: unknown },
	) {
		super(
			driver,
			`the multipart upload of ${path} is no longer in progress (completed, aborted or expired)`,
			options,
		);
	}
}

/** Normalise an SDK error once, at the driver's boundary: typed errors keep the SDK's as cause. */
export function toDriverError(
	driver: string,
	op: string,
	path: string,
	err: unknown,
	signal?: AbortSignal,
): Error {
	if (
		err instanceof StorageDriverError ||
		err instanceof PathNotFoundError ||
		err instanceof OperationAbortedError
	) {
		return err;
	}
	if (isAbort(err, signal)) return new OperationAbortedError(driver, op, { cause: err });
	if (isNotFound(err)) return new PathNotFoundError(driver, path, { cause: err });
	const code = errorCode(err);
	const message = (err as SdkErrorLike | null)?.message ?? String(err);
	return new StorageDriverError(
		driver,
		`${op} ${path}: ${code && !message.startsWith(code) ? `${code}: ` : ""}${message}`,
		{
			cause: err,
		},
	);
}
