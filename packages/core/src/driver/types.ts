import type { Readable } from "node:stream";

/** Every driver call accepts a signal: a client that goes away cancels the backend work it started. */
export interface OperationOptions {
	signal?: AbortSignal | undefined;
}

export interface FileInfo {
	/** The absolute driver path, as passed in (e.g. `/docker/registry/v2/...`). */
	readonly path: string;
	/** Bytes; 0 for directories. */
	readonly size: number;
	readonly modTime: Date;
	readonly isDir: boolean;
}

/**
 * A resumable writer. Bytes written are durable once `close()` resolves, so that another process
 * can reopen the path with `append: true` and continue at `size`. Only `commit()` makes the
 * content visible to `getContent`, `reader` and `stat`. After close, commit or cancel the writer
 * rejects further calls.
 */
export interface FileWriter {
	/** Total bytes in the file, including those written by earlier sessions. */
	readonly size: number;
	/** Resolves when the chunk has been accepted; awaiting each write is the backpressure. */
	write(chunk: Uint8Array): Promise<void>;
	/** Persist what was written so the upload can resume elsewhere. */
	close(): Promise<void>;
	/** Persist and make the content readable at its path. Ends the writer. */
	commit(): Promise<void>;
	/** Discard the content written by this and earlier sessions. Ends the writer. */
	cancel(): Promise<void>;
}

export interface WriterOptions extends OperationOptions {
	/**
	 * Continue the file instead of starting anew: an uncommitted upload, or content this driver's
	 * writer committed (the engine reopens committed data when a client retries a commit whose
	 * later steps failed). Appending to `putContent` content may be refused with a typed error.
	 */
	append?: boolean;
}

export interface RedirectOptions extends OperationOptions {
	method: "GET" | "HEAD";
	/** Lifetime of the URL in seconds. Default 1200 (20 minutes, as Distribution). */
	expiresIn?: number;
}

/** What a walk callback can ask for after seeing an entry. */
export type WalkControl = undefined | "skip" | "stop";
export type WalkFn = (info: FileInfo) => WalkControl | undefined | Promise<WalkControl | undefined>;

export interface WalkOptions extends OperationOptions {
	/** Entries whose path sorts at or before this may be skipped (a hint, not a guarantee). */
	startAfter?: string;
}

/**
 * What a driver can do, read by the conformance suite and by the engine. Quirks of a backend are
 * declared here rather than hidden.
 */
export interface DriverCapabilities {
	/** `redirectURL` returns URLs a client can fetch directly. */
	readonly redirect: boolean;
	/** `move` happens on the backend without streaming bytes through this process. */
	readonly serverSideMove: boolean;
	/** The smallest non-final part the backend accepts, in bytes (0: no minimum). */
	readonly minPartSize: number;
	/** Content lives in this process's memory: the bounded-memory checks do not apply. */
	readonly inProcess: boolean;
}

/**
 * The storage driver contract: Distribution's StorageDriver, async and stream-based. Paths are
 * absolute, `/`-separated, and follow one rule for every driver (see `paths.ts`).
 */
export interface StorageDriver {
	readonly name: string;
	readonly capabilities: DriverCapabilities;

	/** Whole content of a small object. */
	getContent(path: string, options?: OperationOptions): Promise<Buffer>;
	/** Atomically replace the content at path (never a partial overwrite). */
	putContent(path: string, content: Uint8Array, options?: OperationOptions): Promise<void>;
	/** Stream from offset. An offset at or past the end gives an empty stream. */
	reader(path: string, offset?: number, options?: OperationOptions): Promise<Readable>;
	writer(path: string, options?: WriterOptions): Promise<FileWriter>;
	stat(path: string, options?: OperationOptions): Promise<FileInfo>;
	/** Absolute paths of the direct children, sorted. */
	list(path: string, options?: OperationOptions): Promise<string[]>;
	/** Move, overwriting the destination. */
	move(sourcePath: string, destPath: string, options?: OperationOptions): Promise<void>;
	/** Delete a file or a directory and everything below it (true subpaths only). */
	delete(path: string, options?: OperationOptions): Promise<void>;
	/** A URL serving the content directly, or undefined when the driver has none. */
	redirectURL(path: string, options: RedirectOptions): Promise<string | undefined>;
	/** Visit every entry below path, each directory before its contents. */
	walk(path: string, fn: WalkFn, options?: WalkOptions): Promise<void>;
}
