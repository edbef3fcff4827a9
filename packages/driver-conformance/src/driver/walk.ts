import {
	type FileInfo,
	PathNotFoundError,
	type StorageDriver,
	type WalkControl,
	type WalkOptions,
} from "@stowage/core";
import type { ExpectStatic } from "vitest";
import { delay, randomContent } from "./data.js";
import { driverTests, expectDriverError } from "./harness.js";
import type { DriverFactory, DriverSuiteOptions, TestFunction } from "./options.js";

/**
 * Distribution's walk fixture (walk_test.go): `folder1` and `folder1-v2` make per-directory
 * order and full-key order differ, since "-" sorts before "/". Sizes are distinct so FileInfo
 * sizes can be checked.
 */
const FIXTURE: Record<string, number> = {
	file1: 1,
	"folder1/file1": 11,
	"folder1-v2/file1": 12,
	"folder1-v2/subfolder1/file1": 13,
	"folder2/file1": 21,
	"folder3/subfolder1/subfolder1/file1": 31,
	"folder3/subfolder2/subfolder1/file1": 32,
	"folder4/file1": 41,
};

interface Tree {
	base: string;
	/** Every entry (files and directories, including `base`) with its size, or -1 for a directory. */
	sizes: Map<string, number>;
}

async function buildTree(driver: StorageDriver, base: string): Promise<Tree> {
	const sizes = new Map<string, number>([[base, -1]]);
	for (const [rel, size] of Object.entries(FIXTURE)) {
		const path = `${base}/${rel}`;
		await driver.putContent(path, randomContent(size));
		sizes.set(path, size);
		for (let i = path.lastIndexOf("/"); i > base.length; i = path.lastIndexOf("/", i - 1)) {
			sizes.set(path.slice(0, i), -1);
		}
	}
	return { base, sizes };
}

function isBelow(from: string, path: string): boolean {
	return from === "/" ? path !== "/" : path.startsWith(`${from}/`);
}

function entriesBelow(tree: Tree, from: string): string[] {
	return [...tree.sizes.keys()].filter((p) => isBelow(from, p));
}

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The two orders a walk may produce: depth-first with siblings sorted (the list+stat fallback)
 * and full-key order with directories keyed as `dir/` (a flat object-store listing). Both put
 * each directory before its contents; the contract pins no more than that.
 */
function allowedOrders(tree: Tree, entries: string[]): string[][] {
	const isDir = (p: string) => tree.sizes.get(p) === -1;
	const key = (p: string) => (isDir(p) ? `${p}/` : p);
	const keyOrder = [...entries].sort((a, b) => byString(key(a), key(b)));
	const set = new Set(entries);
	const depthFirst: string[] = [];
	const visit = (dir: string) => {
		const children = [...set]
			.filter((p) => p.slice(0, p.lastIndexOf("/") || 1) === dir)
			.sort(byString);
		for (const child of children) {
			depthFirst.push(child);
			if (isDir(child)) visit(child);
		}
	};
	const roots = entries.filter((p) => !set.has(p.slice(0, p.lastIndexOf("/"))));
	for (const top of [...new Set(roots.map((p) => p.slice(0, p.lastIndexOf("/")) || "/"))]) {
		visit(top);
	}
	return [depthFirst, keyOrder];
}

async function record(
	driver: StorageDriver,
	from: string,
	control?: (info: FileInfo) => WalkControl | Promise<WalkControl>,
	options?: WalkOptions,
): Promise<FileInfo[]> {
	const seen: FileInfo[] = [];
	await driver.walk(
		from,
		(info) => {
			seen.push(info);
			return control?.(info);
		},
		options,
	);
	return seen;
}

/** `visited` must be one of the allowed orders restricted to the entries it contains. */
function expectOrdered(expect: ExpectStatic, tree: Tree, from: string, visited: string[]) {
	expect(new Set(visited).size, "no entry is visited twice").toBe(visited.length);
	const orders = allowedOrders(tree, entriesBelow(tree, from)).map((order) =>
		order.filter((p) => visited.includes(p)),
	);
	expect(orders, "walk order: each directory before its contents").toContainEqual(visited);
}

function expectInfos(expect: ExpectStatic, tree: Tree, infos: FileInfo[]) {
	for (const info of infos) {
		const size = tree.sizes.get(info.path);
		expect(size, `unexpected entry ${info.path}`).toBeDefined();
		expect(info.isDir, `${info.path}: isDir`).toBe(size === -1);
		expect(info.size, `${info.path}: size`).toBe(size === -1 ? 0 : size);
		expect(info.modTime, `${info.path}: modTime`).toBeInstanceOf(Date);
	}
}

function causes(error: unknown): unknown[] {
	const chain: unknown[] = [];
	for (let e = error; e !== undefined && chain.length < 10; e = (e as { cause?: unknown }).cause) {
		chain.push(e);
		if (e === null || typeof e !== "object") break;
	}
	return chain;
}

export function walkTests(
	test: TestFunction,
	factory: DriverFactory,
	options?: DriverSuiteOptions,
): void {
	const it = driverTests(test, factory, options);

	it("walk visits every entry once, each directory before its contents", async (c) => {
		const { expect, driver } = c;
		const tree = await buildTree(driver, c.root());
		const infos = await record(driver, tree.base);
		const paths = infos.map((i) => i.path);
		expect([...paths].sort(byString)).toEqual(entriesBelow(tree, tree.base).sort(byString));
		expectOrdered(expect, tree, tree.base, paths);
		expectInfos(expect, tree, infos);
	});

	it("walk from a sub-folder and from the root", async (c) => {
		const { expect, driver } = c;
		const tree = await buildTree(driver, c.root());
		const from = `${tree.base}/folder3`;
		const sub = (await record(driver, from)).map((i) => i.path);
		expect([...sub].sort(byString)).toEqual(entriesBelow(tree, from).sort(byString));
		expectOrdered(expect, tree, from, sub);

		// The store holds only this test's tree, so the root walk starts at its base.
		const all = await record(driver, "/");
		const paths = all.map((i) => i.path);
		expect([...paths].sort(byString)).toEqual(entriesBelow(tree, "/").sort(byString));
		expectOrdered(expect, tree, "/", paths);
		expectInfos(expect, tree, all);
	});

	it("walk of a missing path gives PathNotFoundError", async (c) => {
		const path = `${c.root()}/missing`;
		await expectDriverError(
			c,
			c.driver.walk(path, () => undefined),
			PathNotFoundError,
			"PATH_NOT_FOUND",
		);
	});

	it("walk: 'skip' on a directory skips its contents only", async (c) => {
		const { expect, driver } = c;
		const tree = await buildTree(driver, c.root());
		const skipped = [`${tree.base}/folder1`, `${tree.base}/folder3`];
		const paths = (
			await record(driver, tree.base, (info) => (skipped.includes(info.path) ? "skip" : undefined))
		).map((i) => i.path);
		const expected = entriesBelow(tree, tree.base).filter(
			(p) => !skipped.some((dir) => isBelow(dir, p)),
		);
		// `folder1-v2` shares a prefix with the skipped `folder1` and must still be walked.
		expect([...paths].sort(byString)).toEqual(expected.sort(byString));
		expectOrdered(expect, tree, tree.base, paths);
	});

	it("walk: 'stop' ends the walk without an error", async (c) => {
		const { expect, driver } = c;
		const tree = await buildTree(driver, c.root());
		let calls = 0;
		await driver.walk(tree.base, () => (++calls === 3 ? "stop" : undefined));
		expect(calls).toBe(3);

		// Stopping deep inside a nested directory stops everything, not just that directory.
		const deep = `${tree.base}/folder3/subfolder1/subfolder1/file1`;
		const paths = (
			await record(driver, tree.base, (i) => (i.path === deep ? "stop" : undefined))
		).map((i) => i.path);
		expect(paths.at(-1)).toBe(deep);
		const prefixes = allowedOrders(tree, entriesBelow(tree, tree.base)).map((order) =>
			order.slice(0, order.indexOf(deep) + 1),
		);
		expect(prefixes).toContainEqual(paths);
	});

	it("walk: an error thrown by the callback rejects the walk", async (c) => {
		const { expect, driver } = c;
		const tree = await buildTree(driver, c.root());
		const boom = new Error("callback failed");
		let after = 0;
		let thrown = false;
		const walk = driver.walk(tree.base, (info) => {
			if (thrown) after++;
			if (info.path === `${tree.base}/folder2`) {
				thrown = true;
				throw boom;
			}
			return undefined;
		});
		const error = await walk.then(
			() => undefined,
			(err: unknown) => err,
		);
		expect(error, "walk must reject").toBeDefined();
		expect(causes(error), "the callback's error (or a wrapper whose cause it is)").toContain(boom);
		expect(after, "no callback after the error").toBe(0);
	});

	it("walk awaits an async callback before the next entry", async (c) => {
		const { expect, driver } = c;
		const tree = await buildTree(driver, c.root());
		let inFlight = 0;
		let maxInFlight = 0;
		let calls = 0;
		await driver.walk(tree.base, async () => {
			calls++;
			maxInFlight = Math.max(maxInFlight, ++inFlight);
			await delay(1);
			inFlight--;
			return undefined;
		});
		expect(calls).toBe(entriesBelow(tree, tree.base).length);
		expect(maxInFlight).toBe(1);
	});

	it("walk: startAfter is a hint; every entry after it is visited", async (c) => {
		const { expect, driver } = c;
		const tree = await buildTree(driver, c.root());
		const b = tree.base;
		const cases: [from: string, startAfter: string][] = [
			[b, `${b}/folder1/file1`], // entries of folder1-v2 sort before it ("-" < "/")
			[b, `${b}/folder1-v2/file1`], // folder1/file1 sorts after it, though walked before
			[b, `${b}/folder3/subfolder1`], // a directory: its contents sort after it
			[b, `${b}/folder3/subfolder1/subfolder1/file1`],
			[b, `${b}/folder25`], // does not exist
			[b, `${b}/zzz`], // after everything
			[b, `${b}`], // equals from
			[`${b}/folder3`, `${b}/folder1`], // before from
			[`${b}/folder1`, `${b}/folder2`], // after from
			["/", `${b}/folder2/file1`],
		];
		for (const [from, startAfter] of cases) {
			const what = `walk(${from}, startAfter ${startAfter})`;
			const paths = (await record(driver, from, undefined, { startAfter })).map((i) => i.path);
			const entries = entriesBelow(tree, from);
			for (const p of paths) expect(entries, `${what}: unexpected ${p}`).toContain(p);
			const required = entries.filter((p) => p > startAfter);
			for (const p of required) expect(paths, `${what}: must visit ${p}`).toContain(p);
			expectOrdered(expect, tree, from, paths);
		}
	});

	it("walk skips a path that vanishes mid-walk", async (c) => {
		const { expect, driver } = c;
		const tree = await buildTree(driver, c.root());
		const gone = `${tree.base}/folder2`;
		// `file1` comes first in either order, so folder2 is listed but not yet visited.
		const paths = (
			await record(driver, tree.base, async (info) => {
				if (info.path === `${tree.base}/file1`) await driver.delete(gone);
				return undefined;
			})
		).map((i) => i.path);
		const entries = entriesBelow(tree, tree.base);
		for (const p of entries.filter((p) => p !== gone && !isBelow(gone, p))) {
			expect(paths, `must visit ${p}`).toContain(p);
		}
		expectOrdered(expect, tree, tree.base, paths);
		await expectDriverError(c, driver.list(gone), PathNotFoundError, "PATH_NOT_FOUND");
	});
}
