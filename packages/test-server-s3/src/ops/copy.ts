import { md5Hex } from "../checksums.js";
import {
	attributesFrom,
	bucketOf,
	encryptionHeaders,
	etagMatches,
	header,
	keyOf,
	type Reply,
	type RequestContext,
	xml,
} from "../context.js";
import { errors } from "../errors.js";
import type { StoredObject } from "../store.js";

/** The object named by `x-amz-copy-source` (`[/]bucket/key[?versionId=...]`, URL-encoded). */
export function copySource(ctx: RequestContext): StoredObject {
	const raw = header(ctx, "x-amz-copy-source") as string;
	const q = raw.indexOf("?");
	if (q >= 0) {
		const params = new URLSearchParams(raw.slice(q + 1));
		if (params.get("versionId") !== "null")
			throw errors.notImplemented("Versioned copy sources are not implemented");
	}
	let path: string;
	try {
		path = decodeURIComponent(q >= 0 ? raw.slice(0, q) : raw).replace(/^\//, "");
	} catch {
		throw errors.invalidArgument("Invalid copy source encoding", "x-amz-copy-source", raw);
	}
	const slash = path.indexOf("/");
	if (slash <= 0 || slash === path.length - 1) {
		throw errors.invalidArgument(
			"Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
			"x-amz-copy-source",
			raw,
		);
	}
	const bucketName = path.slice(0, slash);
	const key = path.slice(slash + 1);
	const bucket = ctx.store.buckets.get(bucketName);
	if (!bucket) throw errors.noSuchBucket(bucketName);
	const object = bucket.get(key);
	if (!object) throw errors.noSuchKey(key);
	const ifMatch = header(ctx, "x-amz-copy-source-if-match");
	if (ifMatch !== undefined && !etagMatches(ifMatch, object.etag)) {
		throw errors.preconditionFailed("x-amz-copy-source-If-Match");
	}
	const ifNoneMatch = header(ctx, "x-amz-copy-source-if-none-match");
	if (ifNoneMatch !== undefined && etagMatches(ifNoneMatch, object.etag)) {
		throw errors.preconditionFailed("x-amz-copy-source-If-None-Match");
	}
	return object;
}

export function copyObject(ctx: RequestContext): Reply {
	const bucket = bucketOf(ctx);
	const key = keyOf(ctx);
	const source = copySource(ctx);
	if (source.data.length > ctx.limits.maxCopySize) {
		throw errors.invalidRequest(
			`The specified copy source is larger than the maximum allowable size for a copy source: ${ctx.limits.maxCopySize}`,
		);
	}
	const directive = header(ctx, "x-amz-metadata-directive") ?? "COPY";
	if (directive !== "COPY" && directive !== "REPLACE") {
		throw errors.invalidArgument(
			"Unknown metadata directive.",
			"x-amz-metadata-directive",
			directive,
		);
	}
	const requested = attributesFrom(ctx);
	const sameObject = source === bucket.get(key);
	if (
		sameObject &&
		directive === "COPY" &&
		header(ctx, "x-amz-storage-class") === undefined &&
		requested.sse === undefined
	) {
		throw errors.invalidRequest(
			"This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
		);
	}
	const object: StoredObject = {
		key,
		data: source.data,
		etag: `"${md5Hex(source.data)}"`,
		lastModified: ctx.now,
		contentType: directive === "COPY" ? source.contentType : requested.contentType,
		metadata: directive === "COPY" ? { ...source.metadata } : requested.metadata,
		storageClass: requested.storageClass,
		sse: requested.sse,
	};
	bucket.put(object);
	ctx.stats.bytesCopied += object.data.length;
	return {
		...xml("CopyObjectResult", { ETag: object.etag, LastModified: object.lastModified }),
		headers: { "content-type": "application/xml", ...encryptionHeaders(object) },
	};
}
