import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { StorageDriverError } from "@stowage/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createFsDriver } from "../src/index.js";
import { bytes, scratch } from "./helpers.js";

// Fault injection on top of the real driver: mkdir -p can be made to fail the way it does when a
// concurrent prune removes a parent between its EEXIST and its stat of that parent. The race is
// real under concurrent small pushes but too narrow to reproduce on demand.
const faults = vi.hoisted(() => ({ enotdir: 0 }));
vi.mock("node:fs/promises", async (importOriginal) => {
	const real = await importOriginal<typeof import("node:fs/promises")>();
	const mkdir = async (...args: Parameters<typeof real.mkdir>) => {
		if (faults.enotdir > 0) {
			faults.enotdir--;
			throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${String(args[0])}'`), {
				code: "ENOTDIR",
			});
		}
		return real.mkdir(...args);
	};
	return { ...real, default: { ...real, mkdir }, mkdir };
});

let root: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
	const made = await scratch();
	root = made.dir;
	cleanup = made.cleanup;
	faults.enotdir = 0;
});

afterEach(async () => {
	await cleanup();
});

describe("mkdir -p racing a prune of a parent", () => {
	it("looks again and creates the directory", async () => {
		const driver = createFsDriver({ rootDirectory: root });
		faults.enotdir = 2;
		await driver.putContent("/r/_uploads/u1/startedat", bytes("t"));
		expect(faults.enotdir).toBe(0);
		expect((await readFile(join(root, "r/_uploads/u1/startedat"))).toString()).toBe("t");
	});

	it("still refuses a file in the way with a typed error", async () => {
		const driver = createFsDriver({ rootDirectory: root });
		await driver.putContent("/r/file", bytes("f"));
		const err = await driver.putContent("/r/file/below/x", bytes("x")).catch((e: unknown) => e);
		expect(err).toBeInstanceOf(StorageDriverError);
		expect((await driver.getContent("/r/file")).toString()).toBe("f");
	});

	it("gives up with a typed error when the directory keeps vanishing", async () => {
		const driver = createFsDriver({ rootDirectory: root });
		faults.enotdir = 100;
		const err = await driver.putContent("/r/u2/x", bytes("x")).catch((e: unknown) => e);
		expect(err).toBeInstanceOf(StorageDriverError);
		expect(faults.enotdir).toBeLessThan(100);
	});
});
