import type { Readable } from "node:stream";
import {
	DriverError,
	InvalidOffsetError,
	InvalidPathError,
	OperationAbortedError,
	PathNotFoundError,
	StorageDriverError,
	WriterClosedError,
} from "./errors.js";
import { isValidPath, isValidPathOrRoot } from "./paths.js";
import type {
	DriverCapabilities,
	FileInfo,
	FileWriter,
	OperationOptions,
	RedirectOptions,
	StorageDriver,
	WalkFn,
	WalkOptions,
	WriterOptions,
} from "./types.js";

const CHECKED = Symbol.for("stowage.checkedDriver");

/**
 * Wrap a driver so the contract's rules hold whatever the backend: the path rule, offset checks,
 * cancellation before dispatch, the driver's name on every error, `list("/")` always succeeding,
 * and writers that refuse use after they end. Every driver package returns its driver through
 * this, as Distribution wraps every driver in base.Base.
 */
export function checkedDriver(inner: StorageDriver): StorageDriver {
	if ((inner as { [CHECKED]?: true })[CHECKED]) return inner;
	return new CheckedDriver(inner);
}

class CheckedDriver implements StorageDriver {
	readonly [CHECKED] = true;
	readonly name: string;
	readonly capabilities: DriverCapabilities;

	constructor(private readonly inner: StorageDriver) {
		this.name = inner.name;
		this.capabilities = inner.capabilities;
	}

	getContent(path: string, options?: OperationOptions): Promise<Buffer> {
		return this.run("getContent", options, () => {
			this.path(path);
			return this.inner.getContent(path, options);
		});
	}

	putContent(path: string, content: Uint8Array, options?: OperationOptions): Promise<void> {
		return this.run("putContent", options, () => {
			this.path(path);
			return this.inner.putContent(path, content, options);
		});
	}

	reader(path: string, offset = 0, options?: OperationOptions): Promise<Readable> {
		return this.run("reader", options, () => {
			this.path(path);
			if (!Number.isSafeInteger(offset) || offset < 0) {
				throw new InvalidOffsetError(this.name, path, offset);
			}
			return this.inner.reader(path, offset, options);
		});
	}

	writer(path: string, options?: WriterOptions): Promise<FileWriter> {
		return this.run("writer", options, async () => {
			this.path(path);
			return new CheckedWriter(this.name, path, await this.inner.writer(path, options));
		});
	}

	stat(path: string, options?: OperationOptions): Promise<FileInfo> {
		return this.run("stat", options, () => {
			this.path(path, true);
			return this.inner.stat(path, options);
		});
	}

	list(path: string, options?: OperationOptions): Promise<string[]> {
		return this.run("list", options, async () => {
			this.path(path, true);
			try {
				return await this.inner.list(path, options);
			} catch (err) {
				// An empty object store has no root "directory"; the root always lists.
				if (path === "/" && err instanceof PathNotFoundError) return [];
				throw err;
			}
		});
	}

	move(sourcePath: string, destPath: string, options?: OperationOptions): Promise<void> {
		return this.run("move", options, () => {
			this.path(sourcePath);
			this.path(destPath);
			return this.inner.move(sourcePath, destPath, options);
		});
	}

	delete(path: string, options?: OperationOptions): Promise<void> {
		return this.run("delete", options, () => {
			this.path(path);
			return this.inner.delete(path, options);
		});
	}

	redirectURL(path: string, options: RedirectOptions): Promise<string | undefined> {
		return this.run("redirectURL", options, () => {
			this.path(path);
			return this.inner.redirectURL(path, options);
		});
	}

	async walk(path: string, fn: WalkFn, options?: WalkOptions): Promise<void> {
		// The callback's own errors belong to the caller: pass them through unwrapped.
		let fromCallback: { error: unknown } | undefined;
		const guarded: WalkFn = async (info) => {
			try {
				return await fn(info);
			} catch (error) {
				fromCallback = { error };
				throw error;
			}
		};
		try {
			await this.run("walk", options, () => {
				this.path(path, true);
				return this.inner.walk(path, guarded, options);
			});
		} catch (err) {
			if (fromCallback) throw fromCallback.error;
			throw err;
		}
	}

	private path(path: string, rootAllowed = false): void {
		if (typeof path !== "string" || !(rootAllowed ? isValidPathOrRoot(path) : isValidPath(path))) {
			throw new InvalidPathError(this.name, String(path));
		}
	}

	private async run<T>(
		op: string,
		options: OperationOptions | undefined,
		fn: () => T | Promise<T>,
	): Promise<T> {
		const signal = options?.signal;
		if (signal?.aborted) throw new OperationAbortedError(this.name, op, { cause: signal.reason });
		try {
			return await fn();
		} catch (err) {
			throw normalizeError(this.name, op, err, signal);
		}
	}
}

/** Typed errors pass through; an abort becomes OperationAbortedError; anything else is wrapped. */
export function normalizeError(
	driver: string,
	op: string,
	err: unknown,
	signal?: AbortSignal,
): DriverError {
	if (err instanceof DriverError) return err;
	if (signal?.aborted || (err as { name?: string } | null)?.name === "AbortError") {
		return new OperationAbortedError(driver, op, { cause: err });
	}
	const detail = err instanceof Error ? err.message : String(err);
	return new StorageDriverError(driver, `${op}: ${detail}`, { cause: err });
}

class CheckedWriter implements FileWriter {
	private ended = false;

	constructor(
		private readonly driver: string,
		private readonly path: string,
		private readonly inner: FileWriter,
	) {}

	get size(): number {
		return this.inner.size;
	}

	write(chunk: Uint8Array): Promise<void> {
		return this.step("write", false, () => this.inner.write(chunk));
	}

	close(): Promise<void> {
		return this.step("close", true, () => this.inner.close());
	}

	commit(): Promise<void> {
		return this.step("commit", true, () => this.inner.commit());
	}

	cancel(): Promise<void> {
		return this.step("cancel", true, () => this.inner.cancel());
	}

	private async step(op: string, ends: boolean, fn: () => Promise<void>): Promise<void> {
		if (this.ended) throw new WriterClosedError(this.driver, this.path);
		if (ends) this.ended = true;
		try {
			await fn();
		} catch (err) {
			throw normalizeError(this.driver, `writer.${op}`, err);
		}
	}
}
