import { isValidPath } from "@stowage/core";

/**
 * Where each driver path lives in the bucket. Content is at `<root>/<path>`. Upload state (the
 * sub-part tail segments and multipart markers) lives in a parallel tree under
 * `<root>/~stowage-uploads/`, whose `~` no valid driver path can contain: list, stat and walk
 * never see it, and no caller can address it.
 */
export const STATE_TREE = "~stowage-uploads";

export class KeySpace {
	/** "" or "<rootdirectory>/". */
	readonly root: string;

	constructor(rootDirectory: string) {
		this.root = rootDirectory === "" ? "" : `${rootDirectory}/`;
	}

	/** The object key of a file path (`/a/b` → `<root>a/b`). */
	key(path: string): string {
		return this.root + path.slice(1);
	}

	/** The prefix of everything below a directory path (`/` → the root). */
	dirPrefix(path: string): string {
		return path === "/" ? this.root : `${this.key(path)}/`;
	}

	/** The driver path of a key, when the key is one the driver could have written. */
	pathOf(key: string): string | undefined {
		if (!key.startsWith(this.root)) return undefined;
		const path = `/${key.slice(this.root.length)}`;
		return isValidPath(path) ? path : undefined;
	}

	/** The prefix of a path's upload state: `<root>~stowage-uploads/a/b~/`. */
	stateDir(path: string): string {
		return `${this.root}${STATE_TREE}${path}~/`;
	}

	/** The prefix under which the state of `path` and of every path below it lives. */
	stateScanPrefix(path: string): string {
		return `${this.root}${STATE_TREE}${path}`;
	}

	/** The driver path whose state directory holds `stateKey`, if it is one. */
	pathOfState(stateKey: string): string | undefined {
		const base = `${this.root}${STATE_TREE}`;
		if (!stateKey.startsWith(base)) return undefined;
		const i = stateKey.indexOf("~/", base.length);
		if (i < 0) return undefined;
		const path = stateKey.slice(base.length, i);
		return isValidPath(path) ? path : undefined;
	}
}

/** A component a driver path may hold (the path rule, one segment at a time). */
export function isValidName(name: string): boolean {
	return isValidPath(`/${name}`);
}
