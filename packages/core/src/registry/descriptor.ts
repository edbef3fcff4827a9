/** What the engine knows of a stored blob. */
export interface Descriptor {
	readonly digest: string;
	readonly size: number;
	readonly mediaType: string;
}

export const DEFAULT_BLOB_MEDIA_TYPE = "application/octet-stream";

export interface UploadStatus {
	readonly id: string;
	readonly repository: string;
	/** Bytes received so far: the next write starts here. */
	readonly offset: number;
	readonly startedAt: Date;
}
