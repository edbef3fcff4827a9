import { StorageDriverError } from "@stowage/core";

/** Committed content. Buffers are never mutated once stored, so they can be shared safely. */
export interface FileNode {
	readonly kind: "file";
	readonly data: Buffer;
	readonly modTime: Date;
}

/** Bytes of an uncommitted writer, kept until commit or cancel so a later session can resume. */
export interface Upload {
	readonly chunks: Buffer[];
	size: number;
}

/**
 * A directory exists while it holds committed entries or uncommitted uploads, as a filesystem
 * directory holding only hidden partial files does. Uploads are never listed.
 */
export interface DirNode {
	readonly kind: "dir";
	readonly children: Map<string, Node>;
	readonly uploads: Map<string, Upload>;
	modTime: Date;
}

export type Node = FileNode | DirNode;

export function newDir(now = new Date()): DirNode {
	return { kind: "dir", children: new Map(), uploads: new Map(), modTime: now };
}

export function components(path: string): string[] {
	return path === "/" ? [] : path.slice(1).split("/");
}

/** The node at path, or undefined when any component is missing or is a file. */
export function lookup(root: DirNode, path: string): Node | undefined {
	let node: Node = root;
	for (const name of components(path)) {
		if (node.kind !== "dir") return undefined;
		const next: Node | undefined = node.children.get(name);
		if (next === undefined) return undefined;
		node = next;
	}
	return node;
}

export function lookupDir(root: DirNode, path: string): DirNode | undefined {
	const node = lookup(root, path);
	return node?.kind === "dir" ? node : undefined;
}

/** mkdir -p. Fails, creating nothing, when a component is a file. */
export function ensureDir(driver: string, root: DirNode, path: string): DirNode {
	const names = components(path);
	let dir = root;
	let at = 0;
	for (; at < names.length; at++) {
		const next = dir.children.get(names[at] as string);
		if (next === undefined) break;
		if (next.kind !== "dir") {
			throw new StorageDriverError(driver, `not a directory: /${names.slice(0, at + 1).join("/")}`);
		}
		dir = next;
	}
	const now = new Date();
	for (; at < names.length; at++) {
		const created = newDir(now);
		dir.children.set(names[at] as string, created);
		dir.modTime = now;
		dir = created;
	}
	return dir;
}

/** Remove the directory at path and its ancestors while they hold nothing (the root stays). */
export function pruneEmpty(root: DirNode, path: string): void {
	const names = components(path);
	const chain: DirNode[] = [root];
	for (const name of names) {
		const next = (chain[chain.length - 1] as DirNode).children.get(name);
		if (next?.kind !== "dir") return;
		chain.push(next);
	}
	const now = new Date();
	for (let i = names.length; i > 0; i--) {
		const dir = chain[i] as DirNode;
		if (dir.children.size > 0 || dir.uploads.size > 0) return;
		const parent = chain[i - 1] as DirNode;
		parent.children.delete(names[i - 1] as string);
		parent.modTime = now;
	}
}
