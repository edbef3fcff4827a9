import { badRequest } from "./errors.js";
import { lowerBound, type Store, type StoredObject } from "./store.js";

export interface ListQuery {
	prefix: string;
	delimiter?: string;
	pageToken?: string;
	maxResults: number;
	startOffset?: string;
	endOffset?: string;
	includeTrailingDelimiter: boolean;
}

export interface ListPage {
	items: StoredObject[];
	prefixes: string[];
	nextPageToken?: string;
}

/** Page size ceiling, as on GCS: a larger maxResults is silently capped. */
export const MAX_RESULTS = 1000;

/**
 * objects.list: names in order from the later of prefix, startOffset and the page token; with a
 * delimiter, names with a further delimiter after the prefix collapse into one `prefixes[]`
 * entry. maxResults counts items and prefixes together. The page token names the last entry
 * returned (a prefix skips everything below it), so a page boundary never repeats or drops one.
 */
export function listObjects(store: Store, bucket: string, q: ListQuery): ListPage {
	const names = store.names(bucket);
	let from = q.prefix;
	if (q.startOffset !== undefined && q.startOffset > from) from = q.startOffset;
	const after = q.pageToken !== undefined ? decodeToken(q.pageToken) : undefined;
	let i = lowerBound(names, from);
	if (after !== undefined) i = Math.max(i, lowerBound(names, after));

	const items: StoredObject[] = [];
	const prefixes: string[] = [];
	let count = 0;
	let last: string | undefined;
	while (i < names.length) {
		const name = names[i] as string;
		if (!name.startsWith(q.prefix)) break;
		if (q.endOffset !== undefined && name >= q.endOffset) break;
		if (after !== undefined && name <= after) {
			i++;
			continue;
		}
		if (count >= q.maxResults) {
			return { items, prefixes, nextPageToken: encodeToken(last as string) };
		}
		const cut = q.delimiter ? name.indexOf(q.delimiter, q.prefix.length) : -1;
		if (cut >= 0) {
			const p = name.slice(0, cut + (q.delimiter as string).length);
			prefixes.push(p);
			if (q.includeTrailingDelimiter && name === p) {
				items.push(store.get(bucket, name));
			}
			count++;
			// Everything below the prefix is covered by it: resume past all of it.
			last = `${p}\uffff`;
			i = lowerBound(names, last);
			continue;
		}
		items.push(store.get(bucket, name));
		count++;
		last = name;
		i++;
	}
	return { items, prefixes };
}

function encodeToken(after: string): string {
	return Buffer.from(JSON.stringify({ after })).toString("base64url");
}

function decodeToken(token: string): string {
	try {
		const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as {
			after?: unknown;
		};
		if (typeof parsed.after === "string") return parsed.after;
	} catch {
		// fall through
	}
	throw badRequest(`Invalid page token: ${token}`);
}
