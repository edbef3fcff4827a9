import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../src/config.js";
import { loadDriver } from "../src/drivers.js";
import { accepts } from "../src/http/handlers/manifests.js";
import { parseOciPath } from "../src/http/oci-path.js";
import { parseContentRange, parseRange, uploadRange } from "../src/http/ranges.js";

describe("OCI path parser", () => {
	it.each([
		["/v2/", { kind: "base" }],
		["/v2", { kind: "base" }],
		["/v2/_catalog", { kind: "catalog" }],
		["/v2/a/b/c/tags/list", { kind: "tags", name: "a/b/c" }],
		["/v2/a/manifests/latest", { kind: "manifest", name: "a", reference: "latest" }],
		["/v2/a/blobs/sha256:ab", { kind: "blob", name: "a", digest: "sha256:ab" }],
		["/v2/a/blobs/uploads/", { kind: "uploads", name: "a" }],
		["/v2/a/blobs/uploads", { kind: "uploads", name: "a" }],
		["/v2/a/blobs/uploads/xyz", { kind: "upload", name: "a", id: "xyz" }],
		["/v2/a/referrers/sha256:ab", { kind: "referrers", name: "a", digest: "sha256:ab" }],
		// Repository names may contain the route words as components.
		[
			"/v2/blobs/manifests/manifests/v1",
			{ kind: "manifest", name: "blobs/manifests", reference: "v1" },
		],
		["/v2/x/blobs/uploads/blobs/d", { kind: "blob", name: "x/blobs/uploads", digest: "d" }],
		["/v2/x/tags/list/tags/list", { kind: "tags", name: "x/tags/list" }],
		["/v2/a/blobs/sha256%3Aab", { kind: "blob", name: "a", digest: "sha256:ab" }],
	])("%s", (path, route) => {
		expect(parseOciPath(path)).toEqual(route);
	});

	it.each(["/v1/", "/v2/a", "/v2/a/blobs", "/v2/a/manifests/", "/v2/a/b%zz/tags/list", "/healthz"])(
		"%s is outside the API",
		(path) => {
			expect(parseOciPath(path)).toBeUndefined();
		},
	);
});

describe("ranges", () => {
	it("formats upload progress", () => {
		expect(uploadRange(0)).toBe("0-0");
		expect(uploadRange(1)).toBe("0-0");
		expect(uploadRange(100)).toBe("0-99");
	});

	it("parses Content-Range with or without the unit", () => {
		expect(parseContentRange("0-99")).toEqual({ start: 0, end: 99 });
		expect(parseContentRange("bytes 100-199")).toEqual({ start: 100, end: 199 });
		expect(parseContentRange("bytes 100-199/1000")).toEqual({ start: 100, end: 199 });
		expect(parseContentRange("bytes=5-6/*")).toEqual({ start: 5, end: 6 });
		for (const bad of ["", "abc", "1-", "-1", "bytes */100", "1-2-3"]) {
			expect(parseContentRange(bad), bad).toBeUndefined();
		}
	});

	it("parses a GET Range against a size", () => {
		expect(parseRange(undefined, 10)).toBeUndefined();
		expect(parseRange("bytes=0-4", 10)).toEqual({ start: 0, end: 4 });
		expect(parseRange("bytes=5-", 10)).toEqual({ start: 5, end: 9 });
		expect(parseRange("bytes=-3", 10)).toEqual({ start: 7, end: 9 });
		expect(parseRange("bytes=-30", 10)).toEqual({ start: 0, end: 9 });
		expect(parseRange("bytes=10-", 10)).toBe("unsatisfiable");
		expect(parseRange("bytes=0-0", 0)).toBe("unsatisfiable");
		expect(parseRange("bytes=0-1,4-5", 10)).toBeUndefined();
	});
});

describe("manifest content negotiation", () => {
	const OCI = "application/vnd.oci.image.manifest.v1+json";
	const DOCKER = "application/vnd.docker.distribution.manifest.v2+json";
	it("accepts when no manifest type is listed, or this one, or */*", () => {
		expect(accepts(undefined, OCI)).toBe(true);
		expect(accepts("application/json", OCI)).toBe(true);
		expect(accepts(`${DOCKER}, ${OCI}`, OCI)).toBe(true);
		expect(accepts([DOCKER, OCI], OCI)).toBe(true);
		expect(accepts(`${DOCKER}, */*`, OCI)).toBe(true);
		expect(accepts(DOCKER, OCI)).toBe(false);
	});
});

describe("driver loader", () => {
	it("loads the bundled drivers by name", async () => {
		const memory = await loadDriver("inmemory", {});
		expect(memory.name).toBe("inmemory");
		const fs = await loadDriver("filesystem", { rootdirectory: "/tmp/stowage-loader-test" });
		expect(fs.name).toBe("filesystem");
	});

	it("a driver package that is not installed is one line naming it", async () => {
		// Resolve from a directory with no node_modules, as in a deployment without that driver
		// (deploy.test.ts runs the real CLI that way); here every driver is a dev dependency.
		const empty = join(tmpdir(), "stowage-no-drivers", "node_modules");
		const importer = (s: string) => import(pathToFileURL(join(empty, s, "index.js")).href);
		const err = await loadDriver("s3", {}, importer).catch((e) => e);
		expect(err).toBeInstanceOf(ConfigError);
		expect(err.message).toBe(
			'storage driver "s3" needs the package @stowage/driver-s3, which is not installed: add it (pnpm add @stowage/driver-s3)',
		);
	});

	it("passes Distribution's parameters to a cloud driver's factory", async () => {
		let seen: unknown;
		const driver = await loadDriver("gcs", { bucket: "b" }, async () => ({
			createGcsDriver: (options: unknown) => {
				seen = options;
				return { name: "gcs" };
			},
		}));
		expect(driver.name).toBe("gcs");
		expect(seen).toEqual({ bucket: "b" });
	});

	it("a factory that rejects its parameters is a configuration error", async () => {
		const err = await loadDriver("azure", {}, async () => ({
			createDriver: () => {
				throw new Error("accountname is required");
			},
		})).catch((e) => e);
		expect(err).toBeInstanceOf(ConfigError);
		expect(err.message).toBe("storage.azure: accountname is required");
	});
});
