import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DigestInvalidError, isDigest, parseDigest, UnsupportedDigestError } from "../src/index.js";

const hex256 = createHash("sha256").update("x").digest("hex");
const hex512 = createHash("sha512").update("x").digest("hex");

describe("parseDigest", () => {
	it("accepts sha256 and sha512 in canonical lowercase hex", () => {
		expect(parseDigest(`sha256:${hex256}`)).toEqual({
			algorithm: "sha256",
			hex: hex256,
			digest: `sha256:${hex256}`,
		});
		expect(parseDigest(`sha512:${hex512}`).algorithm).toBe("sha512");
	});

	it.each([
		"",
		"sha256",
		"sha256:",
		":abc",
		`sha256:${hex256.toUpperCase()}`,
		`sha256:${hex256}0`,
		`sha256:${hex256.slice(1)}`,
		`sha512:${hex256}`,
		`SHA256:${hex256}`,
		`sha256:${hex256}\n`,
		`sha256 :${hex256}`,
		"x".repeat(300),
	])("refuses %j as DIGEST_INVALID", (bad) => {
		const err = (() => {
			try {
				parseDigest(bad);
			} catch (e) {
				return e;
			}
		})();
		expect(err).toBeInstanceOf(DigestInvalidError);
		expect((err as DigestInvalidError).code).toBe("DIGEST_INVALID");
	});

	it("tells a well-formed digest of another algorithm apart as UNSUPPORTED_DIGEST", () => {
		for (const other of [
			"md5:d41d8cd98f00b204e9800998ecf8427e",
			"sha384:abc",
			"multihash+base58:QmRZxt",
		]) {
			expect(() => parseDigest(other)).toThrow(UnsupportedDigestError);
		}
		expect(isDigest("md5:abc")).toBe(false);
		expect(isDigest(`sha256:${hex256}`)).toBe(true);
	});
});
