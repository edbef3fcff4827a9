import { StowageError } from "../errors/stowage-error.js";

/** Errors a storage driver raises. Each names the driver, as Distribution's suite demands. */
export abstract class DriverError extends StowageError {
	readonly driver: string;

	constructor(driver: string, message: string, options?: { cause?: unknown }) {
		super(`${driver}: ${message}`, options);
		this.driver = driver;
	}
}

export class PathNotFoundError extends DriverError {
	readonly code = "PATH_NOT_FOUND";
	constructor(
		driver: string,
		readonly path: string,
		options?: { cause?: unknown },
	) {
		super(driver, `path not found: ${path}`, options);
	}
}

export class InvalidPathError extends DriverError {
	readonly code = "INVALID_PATH";
	constructor(
		driver: string,
		readonly path: string,
		options?: { cause?: unknown },
	) {
		super(driver, `invalid path: ${JSON.stringify(path)}`, options);
	}
}

export class InvalidOffsetError extends DriverError {
	readonly code = "INVALID_OFFSET";
	constructor(
		driver: string,
		readonly path: string,
		readonly offset: number,
		options?: { cause?: unknown },
	) {
		super(driver, `invalid offset ${offset} for path ${path}`, options);
	}
}

export class UnsupportedMethodError extends DriverError {
	readonly code = "UNSUPPORTED_METHOD";
	constructor(
		driver: string,
		readonly method: string,
		options?: { cause?: unknown },
	) {
		super(driver, `method not supported: ${method}`, options);
	}
}

/** The operation was cancelled through its AbortSignal. */
export class OperationAbortedError extends DriverError {
	readonly code = "ABORTED";
	constructor(driver: string, operation: string, options?: { cause?: unknown }) {
		super(driver, `${operation} aborted`, options);
	}
}

/** A writer was used after close, commit or cancel. */
export class WriterClosedError extends DriverError {
	readonly code = "WRITER_CLOSED";
	constructor(
		driver: string,
		readonly path: string,
	) {
		super(driver, `writer for ${path} is already closed`);
	}
}

/** Catch-all for backend failures; the backend's own error is the `cause`. */
export class StorageDriverError extends DriverError {
	readonly code = "DRIVER_ERROR";
}
