/**
 * The one path rule every driver obeys, enforced by `checkedDriver` so no driver can drift:
 * absolute, at least one component, components of `[A-Za-z0-9._-]`, no empty, `.` or `..`
 * component (Distribution's PathRegexp plus the traversal guard it leaves to each driver).
 */
const PATH_RE = /^(\/[A-Za-z0-9._-]+)+$/;

export function isValidPath(path: string): boolean {
	if (!PATH_RE.test(path)) return false;
	for (const part of path.split("/")) {
		if (part === "." || part === "..") return false;
	}
	return true;
}

/** Stat, list and walk also accept the root. */
export function isValidPathOrRoot(path: string): boolean {
	return path === "/" || isValidPath(path);
}

/** True when `child` is `parent` itself or lies below it (so `/a` never matches `/ab`). */
export function isSubpath(parent: string, child: string): boolean {
	if (parent === "/") return child.startsWith("/");
	return child === parent || child.startsWith(`${parent}/`);
}

export function parentPath(path: string): string {
	const i = path.lastIndexOf("/");
	return i <= 0 ? "/" : path.slice(0, i);
}

export function joinPath(dir: string, name: string): string {
	return dir === "/" ? `/${name}` : `${dir}/${name}`;
}
