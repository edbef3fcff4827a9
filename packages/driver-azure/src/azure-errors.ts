import {
	DriverError,
	OperationAbortedError,
	PathNotFoundError,
	StorageDriverError,
} from "@stowage/core";

/** The parts of the SDK's RestError this driver looks at (duck-typed: no SDK class identity). */
interface RestErrorLike {
	statusCode?: number;
	code?: string;
	message?: string;
	name?: string;
}

function asRest(err: unknown): RestErrorLike | undefined {
	return typeof err === "object" && err !== null ? (err as RestErrorLike) : undefined;
}

export function statusOf(err: unknown): number | undefined {
	return asRest(err)?.statusCode;
}

export function codeOf(err: unknown): string | undefined {
	return asRest(err)?.code;
}

const NOT_FOUND_CODES = new Set(["BlobNotFound", "ContainerNotFound", "ResourceNotFound"]);

/** 404 in any form: HEAD responses carry no error code, only the status. */
export function isNotFound(err: unknown): boolean {
	const code = codeOf(err);
	return statusOf(err) === 404 || (code !== undefined && NOT_FOUND_CODES.has(code));
}

/** A conditional header (If-Match, If-None-Match, append position) was not met. */
export function isConditionFailed(err: unknown): boolean {
	const status = statusOf(err);
	return status === 412 || (status === 409 && codeOf(err) === "BlobAlreadyExists");
}

export function isAbort(err: unknown): boolean {
	const e = asRest(err);
	return e?.name === "AbortError" || (e as { code?: string } | undefined)?.code === "ABORT_ERR";
}

/** One line naming the backend's error code and status, for the driver error's message. */
export function describe(err: unknown): string {
	const e = asRest(err);
	if (!e) return String(err);
	const first = (e.message ?? "").split("\n")[0]?.trim() ?? "";
	const tag = [e.code, e.statusCode].filter((v) => v !== undefined).join(" ");
	return tag ? `${tag}${first ? `: ${first}` : ""}` : first || String(err);
}

/**
 * The one place SDK errors become driver errors: a 404 (BlobNotFound, ContainerNotFound) is
 * PathNotFoundError for `path`, an abort is OperationAbortedError, anything else is
 * StorageDriverError naming the operation and the backend's code. The SDK error is the cause.
 */
export function toDriverError(driver: string, op: string, path: string, err: unknown): DriverError {
	if (err instanceof DriverError) return err;
	if (isAbort(err)) return new OperationAbortedError(driver, op, { cause: err });
	if (isNotFound(err)) return new PathNotFoundError(driver, path, { cause: err });
	return new StorageDriverError(driver, `${op} ${path}: ${describe(err)}`, { cause: err });
}

/** Run `fn`, resolving a 404 to `undefined` (an absent blob is an answer, not a failure). */
export async function orMissing<T>(fn: () => Promise<T>): Promise<T | undefined> {
	try {
		return await fn();
	} catch (err) {
		if (isNotFound(err)) return undefined;
		throw err;
	}
}
