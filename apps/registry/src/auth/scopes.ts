import { isValidRepositoryName } from "@stowage/core";
import type { OciRoute } from "../http/oci-path.js";

/**
 * What each endpoint needs, in the vocabulary of the Docker token spec: `type:name:action`
 * (`repository:library/alpine:pull`, `registry:catalog:*`). This file holds the one table; the
 * access controllers only answer whether a client holds an access, never which one a request
 * needs.
 */

export interface Access {
	readonly type: string;
	readonly name: string;
	readonly action: string;
}

/** What a route and method need; `login` is any authenticated client. */
export type Need = "login" | "pull" | "pull,push" | "delete" | "catalog";

type Kind = OciRoute["kind"];

/**
 * Every endpoint the dispatcher serves. HEAD needs what GET needs. A method missing here is
 * answered 405 by the dispatcher, after authentication (`login`), so an anonymous client learns
 * nothing from it.
 *
 * Upload sessions need pull and push for every method, status and cancel included: they are part
 * of a push, and a pull-only client has no business with them (Distribution asks pull for status
 * and delete for cancel).
 */
export const SCOPE_TABLE: Readonly<Record<Kind, Readonly<Record<string, Need>>>> = {
	base: { GET: "login" },
	catalog: { GET: "catalog" },
	tags: { GET: "pull" },
	manifest: { GET: "pull", PUT: "pull,push", DELETE: "delete" },
	blob: { GET: "pull", DELETE: "delete" },
	// A mount (`?mount=&from=`) also wants pull on `from`; see `requiredAccess`.
	uploads: { POST: "pull,push" },
	upload: { GET: "pull,push", PATCH: "pull,push", PUT: "pull,push", DELETE: "pull,push" },
	referrers: { GET: "pull" },
};

export interface RequiredAccess {
	/** All of these, or the request is refused. */
	needed: Access[];
	/**
	 * Asked for in the challenge but not required: pull on a mount's source. Without it the mount
	 * silently becomes a plain upload session.
	 */
	wanted: Access[];
}

export function repositoryAccess(name: string, ...actions: string[]): Access[] {
	return actions.map((action) => ({ type: "repository", name, action }));
}

export const CATALOG_ACCESS: Access = { type: "registry", name: "catalog", action: "*" };

/** The access a request needs, from the table. */
export function requiredAccess(
	route: OciRoute,
	method: string,
	query: URLSearchParams,
): RequiredAccess {
	const need = SCOPE_TABLE[route.kind][method === "HEAD" ? "GET" : method] ?? "login";
	const name = "name" in route ? route.name : "";
	const needed = ((): Access[] => {
		switch (need) {
			case "login":
				return [];
			case "catalog":
				return [CATALOG_ACCESS];
			case "pull":
				return repositoryAccess(name, "pull");
			case "pull,push":
				return repositoryAccess(name, "pull", "push");
			case "delete":
				return repositoryAccess(name, "delete");
		}
	})();
	const wanted: Access[] = [];
	const from = mountSource(route, method, query);
	if (from !== undefined) wanted.push(...repositoryAccess(from, "pull"));
	return { needed, wanted };
}

/** The source repository of a cross-repository mount request, when it is one. */
export function mountSource(
	route: OciRoute,
	method: string,
	query: URLSearchParams,
): string | undefined {
	if (route.kind !== "uploads" || method !== "POST") return undefined;
	const from = query.get("from");
	if (query.get("mount") === null || !from || !isValidRepositoryName(from)) return undefined;
	return from;
}

/**
 * The `scope` challenge parameter: one `type:name:actions` per resource, space separated, as the
 * token spec's grammar has it.
 */
export function scopeParam(accesses: readonly Access[]): string {
	const byResource = new Map<string, string[]>();
	for (const a of accesses) {
		const key = `${a.type}:${a.name}`;
		const actions = byResource.get(key) ?? [];
		if (!actions.includes(a.action)) actions.push(a.action);
		byResource.set(key, actions);
	}
	return [...byResource].map(([resource, actions]) => `${resource}:${actions.join(",")}`).join(" ");
}

/**
 * A scope string (`repository:a/b:pull,push`) back into accesses. The name may itself hold `:`
 * (`repository:host:5000/a:pull`), so type and actions are cut at the first and last colon.
 */
export function parseScope(scope: string): Access[] {
	const out: Access[] = [];
	for (const item of scope.split(" ")) {
		const first = item.indexOf(":");
		const last = item.lastIndexOf(":");
		if (first <= 0 || last === first) continue;
		// `repository(plugin)` names a class; the type is what precedes it.
		const type = item.slice(0, first).replace(/\(.*\)$/, "");
		const name = item.slice(first + 1, last);
		for (const action of item.slice(last + 1).split(",")) {
			if (action !== "") out.push({ type, name, action });
		}
	}
	return out;
}
