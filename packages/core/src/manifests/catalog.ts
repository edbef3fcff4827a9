import type { StorageDriver } from "../driver/types.js";
import type { Layout } from "../layout.js";
import { isValidRepositoryName } from "../names.js";
import { listNames } from "./links.js";

/** A directory holding one of these is a repository. */
const REPOSITORY_MARKERS = new Set(["_manifests", "_layers", "_uploads"]);

export interface CatalogOptions {
	/** At most this many names. */
	n: number;
	/** Only names after this one. */
	last?: string;
	signal?: AbortSignal;
}

export interface Catalog {
	repositories: string[];
	/** More names follow the last one returned. */
	more: boolean;
}

/**
 * Component-wise order (`a` < `a/b` < `a-b`): what a depth-first walk over sorted directories
 * yields when each repository comes before the repositories nested in it. `last` is compared the
 * same way, so pages never repeat or skip a name.
 */
export function compareRepositoryNames(a: string, b: string): number {
	const x = a.replaceAll("/", "\0");
	const y = b.replaceAll("/", "\0");
	return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Repository names in component-wise order, after `last`. A depth-first walk with one `list` per
 * directory, yielding as it goes: a page costs the directories up to its last name, not the whole
 * tree, and subtrees entirely before `last` are never listed.
 */
export async function* walkRepositories(
	driver: StorageDriver,
	layout: Layout,
	options: { last?: string; signal?: AbortSignal } = {},
): AsyncGenerator<string> {
	yield* walkDirectory(driver, layout.repositoriesRoot, "", options.last, options.signal);
}

async function* walkDirectory(
	driver: StorageDriver,
	dir: string,
	name: string,
	last: string | undefined,
	signal: AbortSignal | undefined,
): AsyncGenerator<string> {
	signal?.throwIfAborted();
	const children = await listNames(driver, dir, signal);
	if (!children) return;
	const isRepository = name !== "" && children.some((c) => REPOSITORY_MARKERS.has(c));
	if (
		isRepository &&
		isValidRepositoryName(name) &&
		(last === undefined || compareRepositoryNames(name, last) > 0)
	) {
		yield name;
	}
	for (const child of children) {
		// `_`-prefixed entries are repository data, never nested repositories.
		if (child.startsWith("_")) continue;
		const childName = name === "" ? child : `${name}/${child}`;
		// Everything in this subtree sorts before `last` unless `last` lies inside it.
		if (
			last !== undefined &&
			compareRepositoryNames(childName, last) < 0 &&
			!last.startsWith(`${childName}/`)
		) {
			continue;
		}
		yield* walkDirectory(driver, `${dir}/${child}`, childName, last, signal);
	}
}

export async function listRepositories(
	driver: StorageDriver,
	layout: Layout,
	options: CatalogOptions,
): Promise<Catalog> {
	const repositories: string[] = [];
	if (options.n <= 0) return { repositories, more: false };
	for await (const name of walkRepositories(driver, layout, options)) {
		// One name past the page tells whether another page exists.
		if (repositories.length === options.n) return { repositories, more: true };
		repositories.push(name);
	}
	return { repositories, more: false };
}
