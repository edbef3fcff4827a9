import { OperationAbortedError, PathNotFoundError } from "@stowage/core";
import { delay, MiB, randomContent, readAll, seededContent } from "./data.js";
import { type DriverTestBody, driverTests, expectBytes, expectDriverError } from "./harness.js";
import type { DriverFactory, DriverSuiteOptions, TestFunction } from "./options.js";

/**
 * Run a case while watching for promises nobody awaited (a driver that races its abort path
 * against its I/O tends to leave one behind) and for uncaught errors such as an unhandled
 * stream 'error' event.
 */
function guarded(body: DriverTestBody): DriverTestBody {
	return async (c) => {
		const rejections: unknown[] = [];
		const exceptions: unknown[] = [];
		const onRejection = (reason: unknown) => rejections.push(reason);
		const onException = (error: unknown) => exceptions.push(error);
		process.on("unhandledRejection", onRejection);
		process.on("uncaughtExceptionMonitor", onException);
		try {
			await body(c);
			// Let late rejections surface: they are reported after a macrotask turn.
			await delay(50);
		} finally {
			process.off("unhandledRejection", onRejection);
			process.off("uncaughtExceptionMonitor", onException);
		}
		c.expect(rejections, "unhandled rejections").toEqual([]);
		c.expect(exceptions, "uncaught exceptions").toEqual([]);
	};
}

/** What a destroyed stream may legitimately fail with after its signal fired. */
function isAbortLike(error: unknown): boolean {
	if (error instanceof OperationAbortedError) return true;
	const e = error as { name?: unknown; code?: unknown } | null;
	return (
		e?.name === "AbortError" || e?.code === "ABORT_ERR" || e?.code === "ERR_STREAM_PREMATURE_CLOSE"
	);
}

export function abortTests(
	test: TestFunction,
	factory: DriverFactory,
	options?: DriverSuiteOptions,
): void {
	const it = driverTests(test, factory, options);

	it(
		"an already-aborted signal rejects every method with OperationAbortedError",
		guarded(async (c) => {
			const { driver } = c;
			const base = c.root();
			const file = `${base}/file`;
			const content = randomContent(32);
			await driver.putContent(file, content);
			const signal = AbortSignal.abort();
			const calls: [string, () => Promise<unknown>][] = [
				["getContent", () => driver.getContent(file, { signal })],
				["putContent", () => driver.putContent(`${base}/new`, content, { signal })],
				["reader", () => driver.reader(file, 0, { signal })],
				["writer", () => driver.writer(`${base}/new`, { signal })],
				["stat", () => driver.stat(file, { signal })],
				["list", () => driver.list(base, { signal })],
				["move", () => driver.move(file, `${base}/moved`, { signal })],
				["delete", () => driver.delete(file, { signal })],
				["redirectURL", () => driver.redirectURL(file, { method: "GET", signal })],
				["walk", () => driver.walk(base, () => undefined, { signal })],
			];
			for (const [method, call] of calls) {
				await expectDriverError(c, call(), OperationAbortedError, "ABORTED", method);
			}
			// Cancelled before dispatch: nothing changed.
			expectBytes(c.expect, await driver.getContent(file), content);
			c.expect(await driver.list(base)).toEqual([file]);
		}),
	);

	it(
		"aborting before reading a stream destroys it",
		guarded(async ({ expect, driver, root }) => {
			const path = `${root()}/file`;
			await driver.putContent(path, randomContent(MiB));
			const controller = new AbortController();
			const stream = await driver.reader(path, 0, { signal: controller.signal });
			stream.on("error", () => {}); // observed through the iterator below
			controller.abort();
			let received = 0;
			const error = await (async () => {
				for await (const chunk of stream) received += (chunk as Uint8Array).length;
			})().then(
				() => undefined,
				(err: unknown) => err,
			);
			expect(received, "bytes delivered after the abort").toBe(0);
			expect(error, "reading an aborted stream fails").toBeDefined();
			expect(isAbortLike(error), `abort-like error, got ${String(error)}`).toBe(true);
			expect(stream.destroyed).toBe(true);
		}),
	);

	it(
		"aborting during a reader stream destroys it",
		guarded(async ({ expect, driver, root }) => {
			const path = `${root()}/file`;
			const size = 8 * MiB;
			await driver.putContent(path, seededContent(path, size));
			const controller = new AbortController();
			const stream = await driver.reader(path, 0, { signal: controller.signal });
			stream.on("error", () => {});
			let received = 0;
			let first = 0;
			const error = await (async () => {
				for await (const chunk of stream) {
					received += (chunk as Uint8Array).length;
					if (first === 0) {
						first = received;
						controller.abort();
					}
				}
			})().then(
				() => undefined,
				(err: unknown) => err,
			);
			expect(stream.destroyed).toBe(true);
			// A driver may hand over the whole file as one chunk; otherwise the rest must not come.
			if (first < size) {
				expect(received, "the stream went on after the abort").toBeLessThan(size);
				expect(isAbortLike(error), `abort-like error, got ${String(error)}`).toBe(true);
			}
		}),
	);

	it(
		"aborting during a walk rejects it with OperationAbortedError",
		guarded(async (c) => {
			const base = c.root();
			for (const name of ["a", "b", "c/d", "e"]) {
				await c.driver.putContent(`${base}/${name}`, randomContent(4));
			}
			const controller = new AbortController();
			let calls = 0;
			let afterAbort = 0;
			const walk = c.driver.walk(
				base,
				() => {
					if (controller.signal.aborted) afterAbort++;
					if (++calls === 2) controller.abort();
					return undefined;
				},
				{ signal: controller.signal },
			);
			await expectDriverError(c, walk, OperationAbortedError, "ABORTED");
			c.expect(afterAbort, "callbacks after the abort").toBe(0);
		}),
	);

	it(
		"aborting after calls completed is harmless",
		guarded(async (c) => {
			const { expect, driver } = c;
			const path = `${c.root()}/file`;
			const controller = new AbortController();
			const signal = controller.signal;
			const content = randomContent(64 * 1024);
			await driver.putContent(path, content, { signal });
			const writer = await driver.writer(`${path}-streamed`, { signal });
			await writer.write(content);
			await writer.commit();
			await driver.getContent(path, { signal });
			await readAll(await driver.reader(path, 0, { signal }));
			await driver.stat(path, { signal });
			await driver.list(path.slice(0, path.lastIndexOf("/")), { signal });
			await driver.walk(path.slice(0, path.lastIndexOf("/")), () => undefined, { signal });
			controller.abort();
			await delay(20);
			expectBytes(expect, await driver.getContent(path), content);
			expectBytes(expect, await driver.getContent(`${path}-streamed`), content, "streamed");
		}),
	);

	// The check before dispatch must not turn a missing path into an abort, or vice versa.
	it("a live signal does not change errors", async (c) => {
		const { signal } = new AbortController();
		const path = `${c.root()}/missing`;
		await expectDriverError(
			c,
			c.driver.getContent(path, { signal }),
			PathNotFoundError,
			"PATH_NOT_FOUND",
		);
	});
}
