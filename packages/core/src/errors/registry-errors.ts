import { StowageError } from "./stowage-error.js";

/**
 * Errors of the registry engine, one class per OCI condition. The HTTP app maps `code` to the
 * OCI error code and status; nothing here knows about HTTP.
 */

export class NameInvalidError extends StowageError {
	readonly code = "NAME_INVALID";
	constructor(
		readonly repository: string,
		reason = "invalid repository name",
	) {
		super(`${reason}: ${JSON.stringify(repository)}`);
	}
}

export class NameUnknownError extends StowageError {
	readonly code = "NAME_UNKNOWN";
	constructor(readonly repository: string) {
		super(`repository not known to registry: ${repository}`);
	}
}

export class DigestInvalidError extends StowageError {
	readonly code = "DIGEST_INVALID";
	constructor(
		readonly digest: string,
		reason = "invalid digest",
		options?: { cause?: unknown },
	) {
		super(`${reason}: ${JSON.stringify(digest)}`, options);
	}
}

/** Well-formed digest whose algorithm Stowage does not implement. */
export class UnsupportedDigestError extends StowageError {
	readonly code = "UNSUPPORTED_DIGEST";
	constructor(
		readonly digest: string,
		readonly algorithm: string,
	) {
		super(`unsupported digest algorithm ${JSON.stringify(algorithm)}`);
	}
}

export class BlobUnknownError extends StowageError {
	readonly code = "BLOB_UNKNOWN";
	constructor(
		readonly repository: string,
		readonly digest: string,
		options?: { cause?: unknown },
	) {
		super(`blob unknown to registry: ${digest} in ${repository}`, options);
	}
}

export class BlobUploadUnknownError extends StowageError {
	readonly code = "BLOB_UPLOAD_UNKNOWN";
	constructor(
		readonly repository: string,
		readonly uploadId: string,
		options?: { cause?: unknown },
	) {
		super(`blob upload unknown: ${uploadId} in ${repository}`, options);
	}
}

export class BlobUploadInvalidError extends StowageError {
	readonly code = "BLOB_UPLOAD_INVALID";
	constructor(reason: string, options?: { cause?: unknown }) {
		super(`blob upload invalid: ${reason}`, options);
	}
}

/** A write did not start at the upload's current offset. `offset` is where it stands. */
export class RangeInvalidError extends StowageError {
	readonly code = "RANGE_INVALID";
	constructor(
		readonly uploadId: string,
		readonly offset: number,
		readonly requested: number,
	) {
		super(`upload ${uploadId} is at offset ${offset}, not ${requested}`);
	}
}

/** Declared and actual sizes disagree. */
export class SizeInvalidError extends StowageError {
	readonly code = "SIZE_INVALID";
	constructor(
		readonly expected: number,
		readonly actual: number,
	) {
		super(`size invalid: expected ${expected} bytes, got ${actual}`);
	}
}

/** Another request holds this upload; retry after it finishes. Bytes never interleave. */
export class UploadConflictError extends StowageError {
	readonly code = "UPLOAD_CONFLICT";
	constructor(readonly uploadId: string) {
		super(`upload ${uploadId} is being written by another request`);
	}
}

/** The operation is disabled by configuration (e.g. delete) or not implemented. */
export class UnsupportedError extends StowageError {
	readonly code = "UNSUPPORTED";
}

export class ManifestUnknownError extends StowageError {
	readonly code = "MANIFEST_UNKNOWN";
	constructor(
		readonly repository: string,
		readonly reference: string,
	) {
		super(`manifest unknown: ${repository}:${reference}`);
	}
}

export class ManifestInvalidError extends StowageError {
	readonly code = "MANIFEST_INVALID";
	constructor(reason: string, options?: { cause?: unknown }) {
		super(`manifest invalid: ${reason}`, options);
	}
}

/** The manifest is larger than the registry accepts. */
export class ManifestTooLargeError extends StowageError {
	readonly code = "MANIFEST_TOO_LARGE";
	constructor(
		readonly size: number,
		readonly limit: number,
	) {
		super(`manifest of ${size} bytes exceeds the limit of ${limit} bytes`);
	}
}

export class ManifestBlobUnknownError extends StowageError {
	readonly code = "MANIFEST_BLOB_UNKNOWN";
	constructor(readonly digests: string[]) {
		super(`manifest references unknown blobs or manifests: ${digests.join(", ")}`);
	}
}

export class TagInvalidError extends StowageError {
	readonly code = "TAG_INVALID";
	constructor(readonly tag: string) {
		super(`invalid tag: ${JSON.stringify(tag)}`);
	}
}
