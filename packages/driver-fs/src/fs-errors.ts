import {
	DriverError,
	OperationAbortedError,
	PathNotFoundError,
	StorageDriverError,
} from "@stowage/core";

export function errnoCode(err: unknown): string | undefined {
	const code = (err as { code?: unknown } | null)?.code;
	return typeof code === "string" ? code : undefined;
}

export function hasCode(err: unknown, ...codes: string[]): boolean {
	const code = errnoCode(err);
	return code !== undefined && codes.includes(code);
}

/** Codes meaning "nothing readable at this path": missing, under a file, or not a file. */
export const NOT_FOUND_CODES: readonly string[] = ["ENOENT", "ENOTDIR"];

/**
 * Turn a filesystem error into a typed driver error. `notFound` lists the errno codes that mean
 * the path is missing for this operation (ENOTDIR does for a read, not for a write below a file).
 */
export function toDriverError(
	driver: string,
	op: string,
	path: string,
	err: unknown,
	notFound: readonly string[] = ["ENOENT"],
): DriverError {
	if (err instanceof DriverError) return err;
	if ((err as { name?: unknown } | null)?.name === "AbortError") {
		return new OperationAbortedError(driver, op, { cause: err });
	}
	const code = errnoCode(err);
	if (code !== undefined && notFound.includes(code)) {
		return new PathNotFoundError(driver, path, { cause: err });
	}
	const detail = err instanceof Error ? err.message : String(err);
	return new StorageDriverError(driver, `${op} ${path}: ${detail}`, { cause: err });
}

/** Stop before the next step once the caller has gone away. */
export function throwIfAborted(driver: string, op: string, signal: AbortSignal | undefined): void {
	if (signal?.aborted) throw new OperationAbortedError(driver, op, { cause: signal.reason });
}
