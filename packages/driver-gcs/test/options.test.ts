import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createDriver, createGcsDriver } from "../src/index.js";
import { ObjectNames } from "../src/object-names.js";
import { resolveOptions } from "../src/options.js";

describe("options", () => {
	it("takes Distribution's storage.gcs parameters, numbers as strings included", () => {
		const o = resolveOptions({
			bucket: "b",
			rootdirectory: "/registry/",
			chunksize: "5242880",
			maxconcurrency: "25",
			useragent: "stowage-test",
		});
		expect(o).toMatchObject({
			bucket: "b",
			chunksize: 5242880,
			maxconcurrency: 25,
			useragent: "stowage-test",
		});
		expect(resolveOptions({ bucket: "b" })).toMatchObject({
			chunksize: 16 * 1024 * 1024,
			maxconcurrency: 50,
		});
	});

	it("refuses a missing bucket and a chunk size that is not a multiple of 256 KiB", () => {
		expect(() => resolveOptions({} as never)).toThrow(/bucket/);
		expect(() => resolveOptions({ bucket: "b", chunksize: 1000 })).toThrow(/multiple of 262144/);
		expect(() => resolveOptions({ bucket: "b", chunksize: "big" })).toThrow(/integer/);
		expect(() => resolveOptions({ bucket: "b", maxconcurrency: 0 })).toThrow(/maxconcurrency/);
	});

	it("reads a keyfile; a key makes redirects available", () => {
		const dir = mkdtempSync(join(tmpdir(), "gcs-opts-"));
		const keyfile = join(dir, "key.json");
		writeFileSync(
			keyfile,
			JSON.stringify({
				type: "service_account",
				project_id: "p1",
				client_email: "a@b.c",
				private_key: "PEM",
			}),
		);
		const o = resolveOptions({ bucket: "b", keyfile });
		expect(o.credentials?.client_email).toBe("a@b.c");
		expect(o.projectId).toBe("p1");
	});

	it("accepts lower-case aliases and exports the factory as createDriver too", () => {
		expect(resolveOptions({ bucket: "b", apiendpoint: "http://x", projectid: "p" })).toMatchObject({
			apiEndpoint: "http://x",
			projectId: "p",
		});
		expect(createDriver).toBe(createGcsDriver);
		const d = createGcsDriver({ bucket: "b", apiEndpoint: "http://127.0.0.1:1", projectId: "p" });
		expect(d.capabilities).toEqual({
			redirect: false,
			serverSideMove: true,
			minPartSize: 262144,
			inProcess: false,
		});
		expect(d.name).toBe("gcs");
	});

	it("maps paths under the root directory", () => {
		const n = new ObjectNames("/registry/v2/");
		expect(n.key("/a/b")).toBe("registry/v2/a/b");
		expect(n.below("/")).toBe("registry/v2/");
		expect(n.below("/a")).toBe("registry/v2/a/");
		expect(n.partName("/a", 42)).toBe("registry/v2/a~upload/0000000000000042");
		expect(ObjectNames.partOffset("x/a~upload/0000000000000042")).toBe(42);
		expect(ObjectNames.partOffset("x/a~upload/42")).toBeUndefined();
		expect(new ObjectNames("").key("/a")).toBe("a");
		expect(n.entriesOf("/", "registry/v2/", "registry/v2/a/b~upload/0000000000000000")).toEqual({
			dirs: ["/a"],
		});
		expect(n.entriesOf("/a", "registry/v2/a/", "registry/v2/a/b/c")).toEqual({
			dirs: ["/a/b"],
			file: "/a/b/c",
		});
	});
});
