import {
	isStowageError,
	ManifestBlobUnknownError,
	ManifestTooLargeError,
	OperationAbortedError,
	RangeInvalidError,
	SizeInvalidError,
	UploadConflictError,
} from "@stowage/core";
import { uploadRange } from "./ranges.js";

/**
 * The one place where failures become OCI error responses. Core errors carry a stable `code`;
 * this table turns it into the OCI code and HTTP status. Anything not listed is a server fault:
 * 500 UNKNOWN with the request id, never the internal message.
 */

export interface OciErrorEntry {
	code: string;
	message: string;
	detail?: unknown;
}

export interface OciErrorResponse {
	status: number;
	headers: Record<string, string>;
	body: { errors: OciErrorEntry[] };
	/** A server fault (log it loudly), as opposed to a client's mistake. */
	serverFault: boolean;
	/** The client went away; nobody will read the response. */
	clientGone: boolean;
}

/** An error raised by the HTTP layer itself (bad query, unknown route...). */
export class HttpError extends Error {
	constructor(
		readonly status: number,
		readonly code: string,
		message: string,
		readonly detail?: unknown,
		readonly headers: Record<string, string> = {},
	) {
		super(message);
		this.name = "HttpError";
	}
}

/** Core `code` → OCI code and status. */
const CORE_CODES: Record<string, { status: number; code: string }> = {
	NAME_INVALID: { status: 400, code: "NAME_INVALID" },
	NAME_UNKNOWN: { status: 404, code: "NAME_UNKNOWN" },
	TAG_INVALID: { status: 400, code: "TAG_INVALID" },
	DIGEST_INVALID: { status: 400, code: "DIGEST_INVALID" },
	// OCI has no code for an algorithm the registry does not implement; the digest is unusable.
	UNSUPPORTED_DIGEST: { status: 400, code: "DIGEST_INVALID" },
	BLOB_UNKNOWN: { status: 404, code: "BLOB_UNKNOWN" },
	BLOB_UPLOAD_UNKNOWN: { status: 404, code: "BLOB_UPLOAD_UNKNOWN" },
	BLOB_UPLOAD_INVALID: { status: 400, code: "BLOB_UPLOAD_INVALID" },
	RANGE_INVALID: { status: 416, code: "RANGE_INVALID" },
	SIZE_INVALID: { status: 400, code: "SIZE_INVALID" },
	// Another request is writing this upload: a conflict the client may retry.
	UPLOAD_CONFLICT: { status: 409, code: "BLOB_UPLOAD_INVALID" },
	UNSUPPORTED: { status: 405, code: "UNSUPPORTED" },
	MANIFEST_UNKNOWN: { status: 404, code: "MANIFEST_UNKNOWN" },
	MANIFEST_INVALID: { status: 400, code: "MANIFEST_INVALID" },
	MANIFEST_TOO_LARGE: { status: 413, code: "MANIFEST_INVALID" },
	MANIFEST_BLOB_UNKNOWN: { status: 400, code: "MANIFEST_BLOB_UNKNOWN" },
};

export function toOciError(err: unknown, requestId: string): OciErrorResponse {
	const headers: Record<string, string> = {};
	if (err instanceof HttpError) {
		return response(err.status, [entry(err.code, err.message, err.detail)], {
			...err.headers,
		});
	}
	const unavailable = backendFault(err);
	if (unavailable) {
		// The backend's fault, not the client's: 503 tells every client to retry, and nothing the
		// request wrote is lost (uploads resume from the offset the status reports).
		const fault = response(
			503,
			[
				entry("UNAVAILABLE", `${unavailable} failed; retry (request id ${requestId})`, {
					requestId,
				}),
			],
			{ "Retry-After": "1" },
		);
		return { ...fault, serverFault: true };
	}
	if (isClientGone(err)) {
		// 499 (nginx's "client closed request") only shows in the access log.
		return { ...response(499, [entry("UNKNOWN", "client closed the request")]), clientGone: true };
	}
	if (isStowageError(err)) {
		const mapped = CORE_CODES[err.code];
		if (mapped) {
			if (err instanceof RangeInvalidError) headers.Range = uploadRange(err.offset);
			if (err instanceof UploadConflictError) headers["Retry-After"] = "1";
			return response(mapped.status, entries(err, mapped.code), headers);
		}
	}
	// Framework errors that are the client's fault (malformed headers and the like).
	const status = (err as { statusCode?: unknown } | null)?.statusCode;
	if (typeof status === "number" && status >= 400 && status < 500) {
		const message = err instanceof Error ? err.message : "bad request";
		return response(status, [entry(status === 415 ? "UNSUPPORTED" : "UNKNOWN", message)]);
	}
	const fault = response(500, [
		entry("UNKNOWN", `internal server error (request id ${requestId})`, { requestId }),
	]);
	return { ...fault, serverFault: true };
}

function entries(err: Error & { code: string }, code: string): OciErrorEntry[] {
	if (err instanceof ManifestBlobUnknownError) {
		// One entry per missing reference, as Distribution answers.
		return err.digests.map((digest) =>
			entry(code, `blob unknown to registry: ${digest}`, { digest }),
		);
	}
	if (err instanceof SizeInvalidError) {
		return [entry(code, err.message, { expected: err.expected, actual: err.actual })];
	}
	if (err instanceof ManifestTooLargeError) {
		return [entry(code, err.message, { size: err.size, limit: err.limit })];
	}
	return [entry(code, err.message)];
}

function entry(code: string, message: string, detail?: unknown): OciErrorEntry {
	return detail === undefined ? { code, message } : { code, message, detail };
}

function response(
	status: number,
	errors: OciErrorEntry[],
	headers: Record<string, string> = {},
): OciErrorResponse {
	return { status, headers, body: { errors }, serverFault: false, clientGone: false };
}

/**
 * What failed, when a storage driver or the lock service did: a driver error, a lock-service
 * error (code UNAVAILABLE), or work aborted because a lock's lease was lost.
 */
function backendFault(err: unknown): string | undefined {
	const cause = err instanceof OperationAbortedError ? err.cause : err;
	if (!isStowageError(cause)) return undefined;
	if (cause.code === "DRIVER_ERROR") return "the storage backend";
	if (cause.code === "UNAVAILABLE") return "the upload lock service";
	return undefined;
}

/** A body stream that broke because the client disconnected, or a backend call it aborted. */
function isClientGone(err: unknown): boolean {
	if (err instanceof OperationAbortedError) return true;
	const code = (err as { code?: unknown } | null)?.code;
	return (
		code === "ECONNRESET" ||
		code === "ERR_STREAM_PREMATURE_CLOSE" ||
		code === "ECONNABORTED" ||
		(err as { message?: unknown } | null)?.message === "aborted"
	);
}
