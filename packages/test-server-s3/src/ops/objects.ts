import { md5Hex } from "../checksums.js";
import {
	attributesFrom,
	bucketOf,
	encryptionHeaders,
	etagMatches,
	header,
	keyOf,
	objectHeaders,
	type Reply,
	type RequestContext,
} from "../context.js";
import { errors } from "../errors.js";
import type { StoredObject } from "../store.js";

export function putObject(ctx: RequestContext): Reply {
	const bucket = bucketOf(ctx);
	const key = keyOf(ctx);
	if (ctx.body.length > ctx.limits.maxUploadSize) {
		throw errors.entityTooLarge(ctx.body.length, ctx.limits.maxUploadSize);
	}
	checkWriteConditions(ctx, bucket.get(key));
	const object: StoredObject = {
		key,
		// A copy: the request's buffer may be a view into a larger allocation.
		data: Buffer.from(ctx.body),
		etag: `"${md5Hex(ctx.body)}"`,
		lastModified: ctx.now,
		...attributesFrom(ctx),
	};
	bucket.put(object);
	ctx.stats.bytesIn += object.data.length;
	return { status: 200, headers: { etag: object.etag, ...encryptionHeaders(object) } };
}

/** Conditional writes: `If-None-Match: *` refuses to overwrite, `If-Match` demands the ETag. */
export function checkWriteConditions(
	ctx: RequestContext,
	existing: StoredObject | undefined,
): void {
	const ifNoneMatch = header(ctx, "if-none-match");
	if (ifNoneMatch !== undefined) {
		if (ifNoneMatch.trim() !== "*") throw errors.notImplemented("If-None-Match only supports *");
		if (existing) throw errors.preconditionFailed("If-None-Match");
	}
	const ifMatch = header(ctx, "if-match");
	if (ifMatch !== undefined) {
		if (!existing) throw errors.noSuchKey(ctx.key as string);
		if (!etagMatches(ifMatch, existing.etag)) throw errors.preconditionFailed("If-Match");
	}
}

export function getObject(ctx: RequestContext): Reply {
	return read(ctx, true);
}

export function headObject(ctx: RequestContext): Reply {
	return read(ctx, false);
}

const RESPONSE_OVERRIDES = [
	"content-type",
	"content-language",
	"expires",
	"cache-control",
	"content-disposition",
	"content-encoding",
];

function read(ctx: RequestContext, withBody: boolean): Reply {
	const bucket = bucketOf(ctx);
	const key = keyOf(ctx);
	if (ctx.query.has("partNumber"))
		throw errors.notImplemented("partNumber reads are not implemented");
	const object = bucket.get(key);
	if (!object) throw errors.noSuchKey(key);
	const notModified = checkReadConditions(ctx, object);
	const headers = objectHeaders(object);
	if (notModified) {
		return {
			status: 304,
			headers: { etag: object.etag, "last-modified": headers["last-modified"] },
		};
	}
	for (const name of RESPONSE_OVERRIDES) {
		const value = ctx.query.get(`response-${name}`);
		if (value !== undefined) headers[name] = value;
	}
	const size = object.data.length;
	const range = parseRange(header(ctx, "range"), size);
	let data = object.data;
	let status = 200;
	if (range) {
		data = object.data.subarray(range.start, range.end + 1);
		status = 206;
		headers["content-range"] = `bytes ${range.start}-${range.end}/${size}`;
	}
	headers["content-length"] = data.length;
	if (withBody) ctx.stats.bytesOut += data.length;
	return { status, headers, ...(withBody ? { body: data } : {}) };
}

/** Returns true for 304 Not Modified; throws 412 for a failed precondition. */
function checkReadConditions(ctx: RequestContext, object: StoredObject): boolean {
	const ifMatch = header(ctx, "if-match");
	if (ifMatch !== undefined && !etagMatches(ifMatch, object.etag)) {
		throw errors.preconditionFailed("If-Match");
	}
	const unmodifiedSince = header(ctx, "if-unmodified-since");
	if (ifMatch === undefined && unmodifiedSince !== undefined) {
		const t = Date.parse(unmodifiedSince);
		if (!Number.isNaN(t) && Math.floor(object.lastModified.getTime() / 1000) * 1000 > t) {
			throw errors.preconditionFailed("If-Unmodified-Since");
		}
	}
	const ifNoneMatch = header(ctx, "if-none-match");
	if (ifNoneMatch !== undefined) return etagMatches(ifNoneMatch, object.etag);
	const modifiedSince = header(ctx, "if-modified-since");
	if (modifiedSince !== undefined) {
		const t = Date.parse(modifiedSince);
		if (!Number.isNaN(t) && Math.floor(object.lastModified.getTime() / 1000) * 1000 <= t)
			return true;
	}
	return false;
}

/**
 * One `bytes=` range. A syntactically invalid header is ignored (the whole object is sent), as
 * S3 does; a valid but unsatisfiable one is 416 InvalidRange.
 */
export function parseRange(
	value: string | undefined,
	size: number,
): { start: number; end: number } | undefined {
	if (value === undefined) return undefined;
	const m = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
	if (!m || (m[1] === "" && m[2] === "")) return undefined;
	if (m[1] === "") {
		const suffix = Number(m[2]);
		if (suffix === 0 || size === 0) throw errors.invalidRange(size);
		return { start: Math.max(0, size - suffix), end: size - 1 };
	}
	const start = Number(m[1]);
	const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
	if (m[2] !== "" && Number(m[2]) < start) return undefined;
	if (start >= size) throw errors.invalidRange(size);
	return { start, end };
}

export function deleteObject(ctx: RequestContext): Reply {
	const bucket = bucketOf(ctx);
	bucket.delete(keyOf(ctx));
	// S3 answers 204 whether or not the key existed.
	return { status: 204 };
}
