import { bucketOf, intParam, type Reply, type RequestContext, xml } from "../context.js";
import { errors } from "../errors.js";
import { compareKeys } from "../store.js";
import type { XmlFields } from "../xml.js";

/** Where a listing stopped: the last key, or the last common prefix (whose keys are all done). */
interface Position {
	after: string;
	prefix: boolean;
}

function encodeToken(p: Position): string {
	return Buffer.from(JSON.stringify([p.after, p.prefix])).toString("base64url");
}

function decodeToken(token: string): Position {
	try {
		const [after, prefix] = JSON.parse(
			Buffer.from(token, "base64url").toString("utf8"),
		) as unknown[];
		if (typeof after === "string" && typeof prefix === "boolean") return { after, prefix };
	} catch {
		// fall through
	}
	throw errors.invalidArgument(
		"The continuation token provided is incorrect",
		"continuation-token",
		token,
	);
}

/**
 * ListObjectsV2. MaxKeys counts keys and common prefixes together, as AWS does (s3rver does
 * not), and a continuation after a common prefix skips every key it rolled up.
 */
export function listObjectsV2(ctx: RequestContext): Reply {
	const bucket = bucketOf(ctx);
	const prefix = ctx.query.get("prefix") ?? "";
	const delimiter = ctx.query.get("delimiter") || undefined;
	const maxKeys = Math.min(intParam(ctx, "max-keys", 1000), ctx.limits.maxListKeys);
	const token = ctx.query.get("continuation-token");
	const startAfter = ctx.query.get("start-after") || undefined;
	const encoding = ctx.query.get("encoding-type");
	if (encoding !== undefined && encoding !== "url") {
		throw errors.invalidArgument(
			"Invalid Encoding Method specified in Request",
			"encoding-type",
			encoding,
		);
	}
	const enc = encoding === "url" ? urlEncodeKey : (s: string) => s;
	const position: Position | undefined =
		token !== undefined
			? decodeToken(token)
			: startAfter !== undefined
				? { after: startAfter, prefix: false }
				: undefined;

	const contents: XmlFields[] = [];
	const commonPrefixes: XmlFields[] = [];
	let last: Position | undefined;
	let truncated = false;
	let count = 0;
	for (const object of bucket.keysAfter(position?.after, prefix)) {
		const key = object.key;
		if (!key.startsWith(prefix)) {
			if (compareKeys(key, prefix) < 0) continue;
			break;
		}
		if (position?.prefix && key.startsWith(position.after)) continue;
		let rolledUp: string | undefined;
		if (delimiter !== undefined) {
			const i = key.indexOf(delimiter, prefix.length);
			if (i >= 0) rolledUp = key.slice(0, i + delimiter.length);
		}
		if (rolledUp !== undefined && last?.prefix && last.after === rolledUp) continue;
		if (count === maxKeys) {
			truncated = count > 0;
			break;
		}
		count++;
		if (rolledUp !== undefined) {
			commonPrefixes.push({ Prefix: enc(rolledUp) });
			last = { after: rolledUp, prefix: true };
		} else {
			contents.push({
				Key: enc(key),
				LastModified: object.lastModified,
				ETag: object.etag,
				Size: object.data.length,
				StorageClass: object.storageClass,
			});
			last = { after: key, prefix: false };
		}
	}
	return xml("ListBucketResult", {
		Name: bucket.name,
		Prefix: enc(prefix),
		Delimiter: delimiter === undefined ? undefined : enc(delimiter),
		MaxKeys: maxKeys,
		KeyCount: count,
		IsTruncated: truncated,
		EncodingType: encoding,
		ContinuationToken: token,
		NextContinuationToken: truncated && last ? encodeToken(last) : undefined,
		StartAfter: startAfter === undefined ? undefined : enc(startAfter),
		Contents: contents,
		CommonPrefixes: commonPrefixes,
	});
}

/** `encoding-type=url`: keys URL-encoded, slashes kept. */
export function urlEncodeKey(key: string): string {
	return key
		.split("/")
		.map((s) => encodeURIComponent(s))
		.join("/");
}
