import { describe, expect, it } from "vitest";
import {
	isValidRepositoryName,
	isValidTag,
	NameInvalidError,
	TagInvalidError,
	validateRepositoryName,
	validateTag,
} from "../src/index.js";

describe("repository names", () => {
	it.each(["a", "library/ubuntu", "a.b_c__d--e/f-g", "0/1/2/3", `${"a".repeat(255)}`])(
		"accepts %s",
		(name) => {
			expect(validateRepositoryName(name)).toBe(name);
		},
	);

	it.each([
		"",
		"A",
		"a/",
		"/a",
		"a//b",
		"a..b",
		"a___b",
		"_a",
		"a-",
		"a/_uploads",
		"a b",
		"a/../b",
		"a".repeat(256),
	])("refuses %j with NAME_INVALID", (name) => {
		expect(() => validateRepositoryName(name)).toThrow(NameInvalidError);
		expect(isValidRepositoryName(name)).toBe(false);
	});
});

describe("tags", () => {
	it("accepts the OCI tag grammar up to 128 characters", () => {
		for (const tag of ["latest", "v1.2.3", "_x", "A-b_c.d", "a".repeat(128)]) {
			expect(validateTag(tag)).toBe(tag);
		}
	});

	it("refuses everything else with TAG_INVALID", () => {
		for (const tag of ["", ".x", "-x", "a/b", "a:b", "a".repeat(129)]) {
			expect(() => validateTag(tag)).toThrow(TagInvalidError);
			expect(isValidTag(tag)).toBe(false);
		}
	});
});
