import type { Readable } from "node:stream";
import {
	type FileInfo,
	type FileWriter,
	type OperationOptions,
	PathNotFoundError,
	type RedirectOptions,
	type StorageDriver,
	type WalkFn,
	type WalkOptions,
	type WriterOptions,
} from "@stowage/core";
import type { Metrics } from "./metrics.js";

/**
 * A driver that times every call of the driver it wraps, by operation, and counts failures. A
 * missing path is an answer, not a failure. A walk is timed without its callback's time; a
 * reader's time is until the stream is open; a writer's calls are timed one by one.
 */
export function meteredDriver(inner: StorageDriver, metrics: Metrics): StorageDriver {
	const driver = inner.name;
	const time = async <T>(operation: string, fn: () => Promise<T>): Promise<T> => {
		const end = metrics.storageDuration.startTimer({ driver, operation });
		try {
			return await fn();
		} catch (err) {
			if (!(err instanceof PathNotFoundError)) metrics.storageErrors.inc({ driver, operation });
			throw err;
		} finally {
			end();
		}
	};
	const meteredWriter = (w: FileWriter): FileWriter => ({
		get size() {
			return w.size;
		},
		write: (chunk) => time("writer.write", () => w.write(chunk)),
		close: () => time("writer.close", () => w.close()),
		commit: () => time("writer.commit", () => w.commit()),
		cancel: () => time("writer.cancel", () => w.cancel()),
	});
	return {
		name: inner.name,
		capabilities: inner.capabilities,
		getContent: (path: string, options?: OperationOptions): Promise<Buffer> =>
			time("getContent", () => inner.getContent(path, options)),
		putContent: (path: string, content: Uint8Array, options?: OperationOptions) =>
			time("putContent", () => inner.putContent(path, content, options)),
		reader: (path: string, offset?: number, options?: OperationOptions): Promise<Readable> =>
			time("reader", () => inner.reader(path, offset, options)),
		writer: async (path: string, options?: WriterOptions) =>
			meteredWriter(await time("writer", () => inner.writer(path, options))),
		stat: (path: string, options?: OperationOptions): Promise<FileInfo> =>
			time("stat", () => inner.stat(path, options)),
		list: (path: string, options?: OperationOptions) =>
			time("list", () => inner.list(path, options)),
		move: (source: string, dest: string, options?: OperationOptions) =>
			time("move", () => inner.move(source, dest, options)),
		delete: (path: string, options?: OperationOptions) =>
			time("delete", () => inner.delete(path, options)),
		redirectURL: (path: string, options: RedirectOptions) =>
			time("redirectURL", () => inner.redirectURL(path, options)),
		walk: async (path: string, fn: WalkFn, options?: WalkOptions) => {
			// The callback's own time (a sweep deleting as it goes) is not the driver's.
			let inCallback = 0;
			let callbackFailed = false;
			const timed: WalkFn = async (info) => {
				const started = performance.now();
				try {
					return await fn(info);
				} catch (err) {
					callbackFailed = true;
					throw err;
				} finally {
					inCallback += performance.now() - started;
				}
			};
			const started = performance.now();
			try {
				await inner.walk(path, timed, options);
			} catch (err) {
				if (!callbackFailed && !(err instanceof PathNotFoundError)) {
					metrics.storageErrors.inc({ driver, operation: "walk" });
				}
				throw err;
			} finally {
				const seconds = (performance.now() - started - inCallback) / 1000;
				metrics.storageDuration.observe({ driver, operation: "walk" }, Math.max(0, seconds));
			}
		},
	};
}
