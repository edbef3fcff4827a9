/**
 * Parse `/v2/...` paths. Repository names contain slashes and may even contain `blobs` or
 * `manifests` as components, so routes are matched on their fixed suffix, anchored at the end:
 * references, digests and upload ids never contain `/`.
 */
export type OciRoute =
	| { kind: "base" }
	| { kind: "catalog" }
	| { kind: "tags"; name: string }
	| { kind: "manifest"; name: string; reference: string }
	| { kind: "blob"; name: string; digest: string }
	| { kind: "uploads"; name: string }
	| { kind: "upload"; name: string; id: string }
	| { kind: "referrers"; name: string; digest: string };

const SUFFIXES: [RegExp, (m: string[]) => OciRoute][] = [
	[/^(.+)\/tags\/list$/, (m) => ({ kind: "tags", name: at(m, 1) })],
	[/^(.+)\/blobs\/uploads\/?$/, (m) => ({ kind: "uploads", name: at(m, 1) })],
	[/^(.+)\/blobs\/uploads\/([^/]+)$/, (m) => ({ kind: "upload", name: at(m, 1), id: at(m, 2) })],
	[/^(.+)\/blobs\/([^/]+)$/, (m) => ({ kind: "blob", name: at(m, 1), digest: at(m, 2) })],
	[
		/^(.+)\/manifests\/([^/]+)$/,
		(m) => ({ kind: "manifest", name: at(m, 1), reference: at(m, 2) }),
	],
	[/^(.+)\/referrers\/([^/]+)$/, (m) => ({ kind: "referrers", name: at(m, 1), digest: at(m, 2) })],
];

/**
 * The route for a request path (without the query), or undefined for a path outside the API.
 * A malformed percent-escape makes the path unroutable.
 */
export function parseOciPath(path: string): OciRoute | undefined {
	if (path === "/v2" || path === "/v2/") return { kind: "base" };
	if (!path.startsWith("/v2/")) return undefined;
	const rest = path.slice(4);
	if (rest === "_catalog") return { kind: "catalog" };
	for (const [re, build] of SUFFIXES) {
		const m = re.exec(rest);
		if (!m) continue;
		// Decode after matching, so an escaped `/` cannot change which route a path takes.
		try {
			return build(m.map((part) => decodeURIComponent(part)));
		} catch {
			return undefined;
		}
	}
	return undefined;
}

function at(m: string[], i: number): string {
	return m[i] ?? "";
}

/** Split a raw request URL into its path and query. */
export function splitUrl(url: string): { path: string; query: URLSearchParams } {
	const q = url.indexOf("?");
	return q < 0
		? { path: url, query: new URLSearchParams() }
		: { path: url.slice(0, q), query: new URLSearchParams(url.slice(q + 1)) };
}
