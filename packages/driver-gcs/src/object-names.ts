import { joinPath } from "@stowage/core";

/**
 * Marks the objects of an upload in progress: `<key>~upload/<offset>`. `~` never occurs in a
 * valid driver path, so no path maps to these names and list, stat, walk and reader skip them;
 * and they sit right beside the key, so deleting the path (or any directory above it) by prefix
 * takes them along.
 */
export const UPLOAD_MARK = "~upload/";

/** Part names carry their start offset, zero-padded so name order is offset order. */
const OFFSET_DIGITS = 16;

const COMPONENT = /^[A-Za-z0-9._-]+$/;

/** A name component a driver path can have (not `.`, `..`, empty, or a hidden `~` name). */
export function isVisibleComponent(name: string): boolean {
	return COMPONENT.test(name) && name !== "." && name !== "..";
}

/** Maps driver paths to object names under the root directory, and back. */
export class ObjectNames {
	/** "" for the bucket root, otherwise the root directory with a trailing slash. */
	readonly prefix: string;

	constructor(rootdirectory: string) {
		const trimmed = rootdirectory.replace(/^\/+|\/+$/g, "");
		this.prefix = trimmed === "" ? "" : `${trimmed}/`;
	}

	/** The object name of a (non-root) path. */
	key(path: string): string {
		return this.prefix + path.slice(1);
	}

	/** The prefix of everything below a path: `<key>/`, or the root prefix for "/". */
	below(path: string): string {
		return path === "/" ? this.prefix : `${this.key(path)}/`;
	}

	/** Prefix of the part objects of an upload to `path`. */
	uploadPrefix(path: string): string {
		return `${this.key(path)}${UPLOAD_MARK}`;
	}

	partName(path: string, offset: number): string {
		return `${this.uploadPrefix(path)}${String(offset).padStart(OFFSET_DIGITS, "0")}`;
	}

	/** The start offset a part name encodes, or undefined for a name that is not a part. */
	static partOffset(name: string): number | undefined {
		const i = name.lastIndexOf(UPLOAD_MARK);
		if (i < 0) return undefined;
		const digits = name.slice(i + UPLOAD_MARK.length);
		if (!/^\d{16}$/.test(digits)) return undefined;
		return Number(digits);
	}

	/**
	 * Walk helper: for an object name below `base` (the `below()` of `from`), the visible paths
	 * it implies, outermost first, and whether the last is the object itself (a file). A hidden
	 * name yields only its visible ancestor directories.
	 */
	entriesOf(from: string, base: string, name: string): { dirs: string[]; file?: string } {
		const parts = name.slice(base.length).split("/");
		const dirs: string[] = [];
		let at = from;
		for (const [i, part] of parts.entries()) {
			if (!isVisibleComponent(part)) return { dirs };
			at = joinPath(at, part);
			if (i < parts.length - 1) dirs.push(at);
			else return { dirs, file: at };
		}
		return { dirs };
	}
}
