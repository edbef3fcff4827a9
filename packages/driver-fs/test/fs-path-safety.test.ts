import { mkdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DriverError, InvalidPathError, type StorageDriver } from "@stowage/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFsDriver, FsDriver } from "../src/index.js";
import { bytes, hostTree, scratch } from "./helpers.js";

/** Layout: <sandbox>/root is the store; <sandbox>/outside must never change. */
let sandbox: string;
let root: string;
let outside: string;
let cleanup: () => Promise<void>;
let driver: StorageDriver;
let inner: FsDriver;

beforeEach(async () => {
	({ dir: sandbox, cleanup } = await scratch());
	root = join(sandbox, "root");
	outside = join(sandbox, "outside");
	await mkdir(outside);
	await writeFile(join(outside, "secret"), "top secret");
	driver = createFsDriver({ rootDirectory: root });
	inner = new FsDriver({ rootDirectory: root });
});

afterEach(async () => {
	await cleanup();
});

const HOSTILE = [
	"/../x",
	"/a/../../x",
	"/..",
	"/.",
	"//x",
	"/x/",
	"x",
	"",
	"/x\u0000y",
	"/%2e%2e/x",
	"/..%2fx",
	"/a\\..\\..\\x",
	"/\u2025/x",
	"/../outside/secret",
	"/a/./b",
	"/~partial",
	"/x~tmp~1",
];

async function outcome(run: () => Promise<unknown>): Promise<unknown> {
	return run().then(
		() => "resolved",
		(err: unknown) => err,
	);
}

async function sandboxUntouched(): Promise<void> {
	expect(await hostTree(sandbox)).toEqual(["outside/", "outside/secret", "root/"]);
	expect((await readFile(join(outside, "secret"))).toString()).toBe("top secret");
}

describe("hostile paths", () => {
	for (const [label, target] of [
		["the checked driver", () => driver],
		["the unwrapped driver (defence in depth)", () => inner as StorageDriver],
	] as const) {
		it(`are refused by ${label} without touching the disk`, async () => {
			const d = target();
			for (const path of HOSTILE) {
				for (const attempt of [
					() => d.putContent(path, bytes("pwned")),
					() => d.getContent(path),
					() => d.writer(path),
					() => d.writer(path, { append: true }),
					() => d.reader(path),
					() => d.delete(path),
					() => d.move("/a", path),
					() => d.move(path, "/a"),
				]) {
					const err = await outcome(attempt);
					expect(err, `${JSON.stringify(path)}`).toBeInstanceOf(InvalidPathError);
				}
				for (const attempt of [
					() => d.stat(path),
					() => d.list(path),
					() => d.walk(path, () => undefined),
				]) {
					expect(await outcome(attempt)).toBeInstanceOf(InvalidPathError);
				}
			}
			await sandboxUntouched();
		});
	}

	it("accepts odd but valid names inside the root", async () => {
		for (const path of ["/...", "/.abc", "/a--b", "/_.abc", "/abc./abc", "/-"]) {
			await driver.putContent(path, bytes(path));
			expect((await driver.getContent(path)).toString()).toBe(path);
		}
		expect(await driver.list("/")).toEqual(["/-", "/...", "/.abc", "/_.abc", "/a--b", "/abc."]);
		for (const path of await driver.list("/")) await driver.delete(path);
		await sandboxUntouched();
	});
});

describe("symlinks planted inside the root", () => {
	beforeEach(async () => {
		await symlink(outside, join(root, "evil"));
		await symlink(join(outside, "secret"), join(root, "link"));
	});

	const expectedTree = ["outside/", "outside/secret", "root/", "root/evil", "root/link"];

	it("cannot make a write escape through a linked directory", async () => {
		const attempts = [
			() => driver.putContent("/evil/x", bytes("pwned")),
			() => driver.putContent("/evil/deep/x", bytes("pwned")),
			() => driver.writer("/evil/y"),
			() => driver.writer("/evil/y", { append: true }),
			() => driver.writer("/evil/secret", { append: true }),
			() => driver.move("/evil/secret", "/stolen"),
			() => driver.delete("/evil/secret"),
			() => driver.delete("/evil/deep"),
		];
		for (const attempt of attempts) {
			const err = await outcome(attempt);
			expect(err).toBeInstanceOf(DriverError);
			expect((err as Error).message).toMatch(/outside the root|not found/);
		}
		await driver.putContent("/a", bytes("a"));
		expect(await outcome(() => driver.move("/a", "/evil/moved"))).toBeInstanceOf(DriverError);
		await driver.delete("/a");
		expect(await hostTree(sandbox)).toEqual(expectedTree);
		expect((await readFile(join(outside, "secret"))).toString()).toBe("top secret");
	});

	it("checks again a directory it verified before, once it is swapped for a link", async () => {
		// The driver caches verified directories (rooted-paths.ts): the cache must not outlive a swap.
		await driver.putContent("/d/sub/x", bytes("x"));
		await driver.putContent("/d/y", bytes("y"));
		await rm(join(root, "d"), { recursive: true });
		await symlink(outside, join(root, "d"));
		for (const attempt of [
			() => driver.putContent("/d/y", bytes("pwned")),
			() => driver.putContent("/d/sub/x", bytes("pwned")),
			() => driver.writer("/d/secret", { append: true }),
			() => driver.getContent("/d/secret"),
			() => driver.list("/d"),
			() => driver.delete("/d/secret"),
			() => driver.move("/d/secret", "/stolen"),
		]) {
			const err = await outcome(attempt);
			expect(err).toBeInstanceOf(DriverError);
			expect((err as Error).message).toMatch(/outside the root|not found/);
		}
		expect(await hostTree(sandbox)).toEqual([...expectedTree, "root/d"].sort());
		expect((await readFile(join(outside, "secret"))).toString()).toBe("top secret");
	});

	it("cannot make a read escape", async () => {
		for (const attempt of [
			() => driver.getContent("/evil/secret"),
			() => driver.reader("/evil/secret"),
			() => driver.stat("/evil/secret"),
			() => driver.list("/evil"),
			() => driver.getContent("/link"),
			() => driver.reader("/link"),
		]) {
			const err = await outcome(attempt);
			expect(err).toBeInstanceOf(DriverError);
			expect((err as Error).message).toContain("outside the root");
		}
	});

	it("replaces a linked final component instead of writing through it", async () => {
		await driver.putContent("/link", bytes("mine"));
		expect((await driver.getContent("/link")).toString()).toBe("mine");
		expect((await readFile(join(outside, "secret"))).toString()).toBe("top secret");

		await symlink(join(outside, "secret"), join(root, "link2"));
		const w = await driver.writer("/link2");
		await w.write(bytes("also mine"));
		await w.commit();
		expect((await driver.getContent("/link2")).toString()).toBe("also mine");

		await symlink(join(outside, "secret"), join(root, "link3~partial"));
		expect(await outcome(() => driver.writer("/link3", { append: true }))).toBeInstanceOf(
			DriverError,
		);
		expect(await outcome(() => driver.writer("/link3"))).toBeInstanceOf(DriverError);
		expect((await readFile(join(outside, "secret"))).toString()).toBe("top secret");

		await driver.delete("/evil"); // removes the link, not what it points to
		expect((await readFile(join(outside, "secret"))).toString()).toBe("top secret");
	});

	it("follows links that stay inside the root, at any depth, after the first lookup too", async () => {
		// Verified directories are cached: a link in the middle of a path is resolved under its
		// real parent, and a cached directory swapped for a link inside the root still resolves.
		await driver.putContent("/store/a/x", bytes("x"));
		await symlink(join(root, "store"), join(root, "alias"));
		for (let round = 0; round < 2; round++) {
			expect((await driver.getContent("/alias/a/x")).toString()).toBe("x");
			expect(await driver.list("/alias/a")).toEqual(
				round === 0 ? ["/alias/a/x"] : ["/alias/a/x", "/alias/a/y"],
			);
			expect((await driver.stat("/alias/a/x")).size).toBe(1);
			await driver.putContent("/alias/a/y", bytes("y"));
			expect((await readFile(join(root, "store", "a", "y"))).toString()).toBe("y");
			const read = await driver.reader("/alias/a/y");
			expect(Buffer.concat(await read.toArray()).toString()).toBe("y");
		}
		await rm(join(root, "store", "a"), { recursive: true });
		await mkdir(join(root, "elsewhere"));
		await writeFile(join(root, "elsewhere", "x"), "moved");
		await symlink(join(root, "elsewhere"), join(root, "store", "a"));
		expect((await driver.getContent("/alias/a/x")).toString()).toBe("moved");
		expect((await driver.getContent("/store/a/x")).toString()).toBe("moved");
		expect((await readFile(join(outside, "secret"))).toString()).toBe("top secret");
	});

	it("refuses a link swapped in above a directory it created and verified", async () => {
		// ensureDir trusts the directories it made itself only after checking them under the
		// base it verified; a later swap of any ancestor must be seen by the next call.
		await driver.putContent("/p/q/r/x", bytes("x"));
		await rm(join(root, "p", "q"), { recursive: true });
		await symlink(outside, join(root, "p", "q"));
		for (const attempt of [
			() => driver.putContent("/p/q/r/x", bytes("pwned")),
			() => driver.putContent("/p/q/new/x", bytes("pwned")),
			() => driver.getContent("/p/q/secret"),
			() => driver.list("/p/q"),
		]) {
			const err = await outcome(attempt);
			expect(err).toBeInstanceOf(DriverError);
			expect((err as Error).message).toMatch(/outside the root|not found/);
		}
		expect(await hostTree(outside)).toEqual(["secret"]);
	});
});
