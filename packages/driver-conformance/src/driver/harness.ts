import { type DriverError, PathNotFoundError, type StorageDriver } from "@stowage/core";
import type { ExpectStatic } from "vitest";
import { randomName } from "./data.js";
import type {
	DriverFactory,
	DriverSuiteOptions,
	ResolvedOptions,
	SuiteTestContext,
	TestFunction,
} from "./options.js";
import { resolveOptions } from "./options.js";

/** What a suite case receives: a fresh driver, the bound expect, and random roots it may use. */
export interface DriverTestContext {
	readonly ctx: SuiteTestContext;
	readonly expect: ExpectStatic;
	readonly driver: StorageDriver;
	readonly options: ResolvedOptions;
	/** A new random top-level directory path (`/<random>`); it is deleted after the test. */
	root(): string;
}

export type DriverTestBody = (c: DriverTestContext) => Promise<void>;
export type DefineDriverTest = (name: string, body: DriverTestBody, timeout?: number) => void;

/**
 * Bind a group to the runner. Every case gets a fresh driver, and ends (as Distribution's
 * TearDownTest) by deleting its roots and asserting `list("/")` is empty; on failure the roots are
 * cleaned up anyway and the original failure is reported.
 */
export function driverTests(
	test: TestFunction,
	factory: DriverFactory,
	options?: DriverSuiteOptions,
): DefineDriverTest {
	const resolved = resolveOptions(options);
	return (name, body, timeout) => {
		test(
			name,
			async (ctx) => {
				const driver = await factory();
				const roots: string[] = [];
				const c: DriverTestContext = {
					ctx,
					expect: ctx.expect,
					driver,
					options: resolved,
					root() {
						const root = `/${randomName(24)}`;
						roots.push(root);
						return root;
					},
				};
				let failure: { error: unknown } | undefined;
				try {
					await body(c);
				} catch (error) {
					failure = { error };
				}
				for (const root of roots) {
					try {
						await driver.delete(root);
					} catch (error) {
						if (error instanceof PathNotFoundError) continue;
						failure ??= { error };
					}
				}
				if (failure) throw failure.error;
				ctx.expect(await driver.list("/"), "list('/') must be empty after the test").toEqual([]);
			},
			timeout ?? resolved.timeout,
		);
	};
}

type DriverErrorClass<E extends DriverError> = abstract new (...args: never[]) => E;

/**
 * Await `promise`, expect it to reject with `type`, carrying the stable `code` and naming the
 * driver in its message (Distribution's suite checks the driver name too). Returns the error.
 */
export async function expectDriverError<E extends DriverError>(
	c: Pick<DriverTestContext, "expect" | "driver">,
	promise: Promise<unknown>,
	type: DriverErrorClass<E>,
	code: string,
	what = type.name,
): Promise<E> {
	let error: unknown;
	try {
		await promise;
	} catch (err) {
		error = err;
	}
	c.expect(error, `${what}: expected the call to reject`).toBeDefined();
	c.expect(error, `${what}: wrong error type`).toBeInstanceOf(type);
	const typed = error as E;
	c.expect(typed.code, `${what}: error code`).toBe(code);
	c.expect(typed.message, `${what}: message must name the driver`).toContain(c.driver.name);
	return typed;
}

/** Byte equality with a readable failure (length, then first differing offset), not a huge diff. */
export function expectBytes(
	expect: ExpectStatic,
	actual: Uint8Array,
	expected: Uint8Array,
	what = "content",
): void {
	expect(actual.length, `${what}: length`).toBe(expected.length);
	if (Buffer.compare(actual, expected) === 0) return;
	let i = 0;
	while (i < actual.length && actual[i] === expected[i]) i++;
	expect(i, `${what}: first differing byte offset`).toBe(-1);
}
