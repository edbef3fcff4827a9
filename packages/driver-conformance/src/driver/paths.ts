import { InvalidPathError } from "@stowage/core";
import { randomContent } from "./data.js";
import { type DefineDriverTest, driverTests, expectDriverError } from "./harness.js";
import type { DriverFactory, DriverSuiteOptions, TestFunction } from "./options.js";

/** Distribution's valid paths (case 2), each placed under a random root so runs never collide. */
const VALID_PATHS = [
	"/a",
	"/2",
	"/aa",
	"/a.a",
	"/0-9/abcdefg",
	"/abcdefg/z.75",
	"/abc/1.2.3.4.5-6_zyx/123.z/4",
	"/docker/docker-registry",
	"/123.abc",
	"/abc./abc",
	"/.abc",
	"/a--b",
	"/a-.b",
	"/_.abc",
	"/Docker/docker-registry",
	"/Abc/Cba",
];

/** Distribution's invalid paths (case 3) plus the traversal and charset cases of our path rule. */
const INVALID_PATHS = [
	"",
	"/",
	"abc",
	"123.abc",
	"//bcd",
	"/abc_123/",
	"/a/../b",
	"/./a",
	"/..",
	"/a/.",
	"/a//b",
	"/a b",
	"/a\\b",
	"/ä",
	"/a:b",
];

export function pathTests(
	test: TestFunction,
	factory: DriverFactory,
	options?: DriverSuiteOptions,
): void {
	const it: DefineDriverTest = driverTests(test, factory, options);

	// Distribution 1: the root always lists, even on an empty store.
	it("list('/') succeeds on an empty store", async ({ expect, driver }) => {
		expect(await driver.list("/")).toEqual([]);
	});

	// Distribution 2.
	it("valid paths round-trip through putContent/getContent", async ({ expect, driver, root }) => {
		const base = root();
		for (const path of VALID_PATHS) {
			const content = randomContent(64);
			await driver.putContent(base + path, content);
			expect(await driver.getContent(base + path), path).toEqual(content);
		}
	});

	// Distribution 3, extended to every method that takes a path.
	it("invalid paths are rejected with InvalidPathError", async (c) => {
		const { driver } = c;
		const valid = `${c.root()}/file`;
		await driver.putContent(valid, Buffer.from("x"));
		for (const path of INVALID_PATHS) {
			const q = JSON.stringify(path);
			const calls: [string, () => Promise<unknown>][] = [
				["putContent", () => driver.putContent(path, randomContent(64))],
				["getContent", () => driver.getContent(path)],
				["reader", () => driver.reader(path)],
				["writer", () => driver.writer(path)],
				["move (source)", () => driver.move(path, valid)],
				["move (dest)", () => driver.move(valid, path)],
				["delete", () => driver.delete(path)],
				["redirectURL", () => driver.redirectURL(path, { method: "GET" })],
			];
			// The root is a valid argument to stat, list and walk.
			if (path !== "/") {
				calls.push(
					["stat", () => driver.stat(path)],
					["list", () => driver.list(path)],
					["walk", () => driver.walk(path, () => undefined)],
				);
			}
			for (const [method, call] of calls) {
				const err = await expectDriverError(
					c,
					call(),
					InvalidPathError,
					"INVALID_PATH",
					`${method}(${q})`,
				);
				c.expect(err.path, `${method}(${q}): error path`).toBe(path);
			}
		}
		// Nothing above may have touched the valid file.
		c.expect((await driver.getContent(valid)).toString()).toBe("x");
	});
}
