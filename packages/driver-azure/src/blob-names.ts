/**
 * Maps driver paths to blob names and back. `/a/b` is `<root>/a/b`; the root prefix is "" or
 * ends with "/". Beside the paths, under `<root>~stowage/`, live the driver's own blobs (an
 * upload's tail blob, see upload-state.ts). `~` never occurs in a valid driver path, so these
 * names can never collide with a path, and list, stat and walk skip any name they cannot map
 * back to a valid path.
 */
export class BlobNames {
	readonly tailsPrefix: string;

	constructor(readonly prefix: string) {
		this.tailsPrefix = `${prefix}~stowage/tails/`;
	}

	/** Blob name of a file path. */
	file(path: string): string {
		return this.prefix + path.slice(1);
	}

	/** Prefix of everything below a directory path (the root included). */
	dir(path: string): string {
		return path === "/" ? this.prefix : `${this.file(path)}/`;
	}

	/** Name of the hidden blob holding the upload state and unblocked tail of `path`. */
	tail(path: string): string {
		return this.tailsPrefix + path.slice(1);
	}

	/** Driver path below `dirPath` for a blob name listed under `dir(dirPath)`, if visible. */
	pathBelow(dirPath: string, name: string): string | undefined {
		const rel = name.slice(this.dir(dirPath).length);
		if (!isVisibleRelative(rel)) return undefined;
		return dirPath === "/" ? `/${rel}` : `${dirPath}/${rel}`;
	}
}

const COMPONENT = /^[A-Za-z0-9._-]+$/;

/** A name a driver path can have as one component (the path rule of @stowage/core). */
export function isVisibleComponent(name: string): boolean {
	return COMPONENT.test(name) && name !== "." && name !== "..";
}

/** Every component of a relative `a/b/c` name is visible. */
export function isVisibleRelative(rel: string): boolean {
	if (rel === "") return false;
	for (const part of rel.split("/")) if (!isVisibleComponent(part)) return false;
	return true;
}
