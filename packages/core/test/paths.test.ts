import { describe, expect, it } from "vitest";
import { isSubpath, isValidPath, isValidPathOrRoot, joinPath, parentPath } from "../src/index.js";

describe("the driver path rule", () => {
	it("accepts Distribution's valid paths", () => {
		for (const p of ["/a", "/Abc/Cba", "/.abc", "/a--b", "/_.abc", "/abc./abc", "/a/b.c/d_e-f"]) {
			expect(isValidPath(p)).toBe(true);
		}
	});

	it("refuses relative, empty, traversing and odd-character paths", () => {
		for (const p of [
			"",
			"/",
			"a",
			"//a",
			"/a/",
			"/a//b",
			"/.",
			"/..",
			"/a/../b",
			"/a/./b",
			"/a b",
			"/a\0",
			"/a~b",
			"/a\\b",
		]) {
			expect(isValidPath(p)).toBe(false);
		}
		expect(isValidPathOrRoot("/")).toBe(true);
	});

	it("treats only true subpaths as below a path", () => {
		expect(isSubpath("/a", "/a")).toBe(true);
		expect(isSubpath("/a", "/a/b")).toBe(true);
		expect(isSubpath("/a", "/ab")).toBe(false);
		expect(isSubpath("/", "/anything")).toBe(true);
		expect(parentPath("/a/b")).toBe("/a");
		expect(parentPath("/a")).toBe("/");
		expect(joinPath("/", "a")).toBe("/a");
		expect(joinPath("/a", "b")).toBe("/a/b");
	});
});
