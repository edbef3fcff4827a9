import { createHash } from "node:crypto";
import { md5Hex } from "../checksums.js";
import {
	attributesFrom,
	bucketOf,
	encryptionHeaders,
	etagMatches,
	header,
	intParam,
	keyOf,
	OWNER,
	type Reply,
	type RequestContext,
	xml,
} from "../context.js";
import { errors } from "../errors.js";
import type { Bucket, MultipartUpload, StoredObject } from "../store.js";
import { compareKeys } from "../store.js";
import {
	child,
	childrenNamed,
	parseXml,
	type XmlElement,
	type XmlFields,
	XmlSyntaxError,
} from "../xml.js";
import { copySource } from "./copy.js";
import { checkWriteConditions } from "./objects.js";

export function createMultipartUpload(ctx: RequestContext): Reply {
	const bucket = bucketOf(ctx);
	const key = keyOf(ctx);
	const upload: MultipartUpload = {
		uploadId: bucket.newUploadId(),
		key,
		initiated: ctx.now,
		parts: new Map(),
		...attributesFrom(ctx),
	};
	bucket.uploads.set(upload.uploadId, upload);
	return {
		...xml("InitiateMultipartUploadResult", {
			Bucket: bucket.name,
			Key: key,
			UploadId: upload.uploadId,
		}),
		headers: { "content-type": "application/xml", ...encryptionHeaders(upload) },
	};
}

/** The upload named by `uploadId`, which must belong to this key. */
function uploadOf(ctx: RequestContext, bucket: Bucket): MultipartUpload {
	const uploadId = ctx.query.get("uploadId") ?? "";
	const upload = bucket.uploads.get(uploadId);
	if (!upload || upload.key !== ctx.key) throw errors.noSuchUpload(uploadId);
	return upload;
}

function partNumberOf(ctx: RequestContext): number {
	const raw = ctx.query.get("partNumber") ?? "";
	const n = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
	if (!(n >= 1 && n <= ctx.limits.maxPartNumber)) {
		throw errors.invalidArgument(
			`Part number must be an integer between 1 and ${ctx.limits.maxPartNumber}, inclusive`,
			"partNumber",
			raw,
		);
	}
	return n;
}

export function uploadPart(ctx: RequestContext): Reply {
	const bucket = bucketOf(ctx);
	const upload = uploadOf(ctx, bucket);
	const partNumber = partNumberOf(ctx);
	if (ctx.body.length > ctx.limits.maxUploadSize) {
		throw errors.entityTooLarge(ctx.body.length, ctx.limits.maxUploadSize);
	}
	const data = Buffer.from(ctx.body);
	const etag = `"${md5Hex(data)}"`;
	upload.parts.set(partNumber, { partNumber, data, etag, lastModified: ctx.now });
	ctx.stats.bytesIn += data.length;
	return { status: 200, headers: { etag, ...encryptionHeaders(upload) } };
}

export function uploadPartCopy(ctx: RequestContext): Reply {
	const bucket = bucketOf(ctx);
	const upload = uploadOf(ctx, bucket);
	const partNumber = partNumberOf(ctx);
	const source = copySource(ctx);
	const size = source.data.length;
	let data = source.data;
	const range = header(ctx, "x-amz-copy-source-range");
	if (range !== undefined) {
		const m = /^bytes=(\d+)-(\d+)$/.exec(range.trim());
		if (!m) {
			throw errors.invalidArgument(
				"The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
				"x-amz-copy-source-range",
				range,
			);
		}
		const first = Number(m[1]);
		const last = Number(m[2]);
		if (first > last || last >= size) {
			throw errors.invalidArgument(
				`Range specified is not valid for source object of size: ${size}`,
				"x-amz-copy-source-range",
				range,
			);
		}
		data = source.data.subarray(first, last + 1);
	}
	if (data.length > ctx.limits.maxCopySize) {
		throw errors.invalidRequest(
			`The specified copy range is larger than the maximum allowable size for a copy part: ${ctx.limits.maxCopySize}`,
		);
	}
	const etag = `"${md5Hex(data)}"`;
	upload.parts.set(partNumber, { partNumber, data, etag, lastModified: ctx.now });
	ctx.stats.bytesCopied += data.length;
	return xml("CopyPartResult", { ETag: etag, LastModified: ctx.now });
}

export function listParts(ctx: RequestContext): Reply {
	const bucket = bucketOf(ctx);
	const upload = uploadOf(ctx, bucket);
	const maxParts = Math.min(intParam(ctx, "max-parts", 1000), ctx.limits.maxListParts);
	const marker = intParam(ctx, "part-number-marker", 0);
	const after = [...upload.parts.values()]
		.filter((p) => p.partNumber > marker)
		.sort((a, b) => a.partNumber - b.partNumber);
	const page = after.slice(0, maxParts);
	const truncated = after.length > page.length;
	return xml("ListPartsResult", {
		Bucket: bucket.name,
		Key: upload.key,
		UploadId: upload.uploadId,
		PartNumberMarker: marker,
		NextPartNumberMarker: page.length > 0 ? page[page.length - 1]?.partNumber : undefined,
		MaxParts: maxParts,
		IsTruncated: truncated,
		Part: page.map((p) => ({
			PartNumber: p.partNumber,
			LastModified: p.lastModified,
			ETag: p.etag,
			Size: p.data.length,
		})),
		Initiator: OWNER,
		Owner: OWNER,
		StorageClass: upload.storageClass,
	});
}

export function listMultipartUploads(ctx: RequestContext): Reply {
	const bucket = bucketOf(ctx);
	const prefix = ctx.query.get("prefix") ?? "";
	const delimiter = ctx.query.get("delimiter") || undefined;
	const maxUploads = Math.min(intParam(ctx, "max-uploads", 1000), ctx.limits.maxListUploads);
	const keyMarker = ctx.query.get("key-marker") || undefined;
	const uploadIdMarker = ctx.query.get("upload-id-marker") || undefined;
	// AWS orders by key, then by initiation time.
	const all = [...bucket.uploads.values()].sort(
		(a, b) =>
			compareKeys(a.key, b.key) ||
			a.initiated.getTime() - b.initiated.getTime() ||
			(a.uploadId < b.uploadId ? -1 : a.uploadId > b.uploadId ? 1 : 0),
	);
	let start = 0;
	if (keyMarker !== undefined) {
		const markerIndex =
			uploadIdMarker === undefined
				? -1
				: all.findIndex((u) => u.key === keyMarker && u.uploadId === uploadIdMarker);
		start =
			markerIndex >= 0
				? markerIndex + 1
				: all.findIndex(
						(u) =>
							compareKeys(u.key, keyMarker) > 0 &&
							!(delimiter && keyMarker.endsWith(delimiter) && u.key.startsWith(keyMarker)),
					);
		if (start < 0) start = all.length;
	}
	const uploads: XmlFields[] = [];
	const prefixes: XmlFields[] = [];
	let lastKey: string | undefined;
	let lastUploadId: string | undefined;
	let lastPrefix: string | undefined;
	let truncated = false;
	let count = 0;
	for (let i = start; i < all.length; i++) {
		const u = all[i] as MultipartUpload;
		if (!u.key.startsWith(prefix)) continue;
		let rolledUp: string | undefined;
		if (delimiter !== undefined) {
			const d = u.key.indexOf(delimiter, prefix.length);
			if (d >= 0) rolledUp = u.key.slice(0, d + delimiter.length);
		}
		if (rolledUp !== undefined && rolledUp === lastPrefix) continue;
		if (count === maxUploads) {
			truncated = count > 0;
			break;
		}
		count++;
		if (rolledUp !== undefined) {
			prefixes.push({ Prefix: rolledUp });
			lastPrefix = rolledUp;
			lastKey = rolledUp;
			lastUploadId = undefined;
		} else {
			uploads.push({
				Key: u.key,
				UploadId: u.uploadId,
				Initiator: OWNER,
				Owner: OWNER,
				StorageClass: u.storageClass,
				Initiated: u.initiated,
			});
			lastKey = u.key;
			lastUploadId = u.uploadId;
		}
	}
	return xml("ListMultipartUploadsResult", {
		Bucket: bucket.name,
		KeyMarker: keyMarker ?? "",
		UploadIdMarker: uploadIdMarker ?? "",
		NextKeyMarker: truncated ? lastKey : undefined,
		NextUploadIdMarker: truncated ? lastUploadId : undefined,
		Prefix: prefix,
		Delimiter: delimiter,
		MaxUploads: maxUploads,
		IsTruncated: truncated,
		Upload: uploads,
		CommonPrefixes: prefixes,
	});
}

/**
 * CompleteMultipartUpload, strictly: parts listed in ascending order, each uploaded with the
 * given ETag, and every part but the last at least the minimum part size.
 */
export function completeMultipartUpload(ctx: RequestContext): Reply {
	const bucket = bucketOf(ctx);
	const upload = uploadOf(ctx, bucket);
	let root: XmlElement;
	try {
		root = parseXml(ctx.body.toString("utf8"));
	} catch (err) {
		if (err instanceof XmlSyntaxError) throw errors.malformedXML();
		throw err;
	}
	if (root.name !== "CompleteMultipartUpload") throw errors.malformedXML();
	const listed = childrenNamed(root, "Part").map((p) => {
		const number = child(p, "PartNumber")?.text.trim() ?? "";
		const etag = child(p, "ETag")?.text.trim();
		if (!/^\d+$/.test(number) || etag === undefined) throw errors.malformedXML();
		return { partNumber: Number(number), etag };
	});
	if (listed.length === 0) {
		throw errors.malformedXML(
			"The XML you provided was not well-formed or did not validate against our published schema: you must specify at least one part",
		);
	}
	for (let i = 1; i < listed.length; i++) {
		if (
			(listed[i] as { partNumber: number }).partNumber <=
			(listed[i - 1] as { partNumber: number }).partNumber
		) {
			throw errors.invalidPartOrder();
		}
	}
	const parts = listed.map(({ partNumber, etag }) => {
		const part = upload.parts.get(partNumber);
		if (!part || !etagMatches(etag, part.etag)) throw errors.invalidPart();
		return part;
	});
	for (const part of parts.slice(0, -1)) {
		if (part.data.length < ctx.limits.minPartSize) {
			throw errors.entityTooSmall(part.data.length, ctx.limits.minPartSize);
		}
	}
	checkWriteConditions(ctx, bucket.get(upload.key));
	const md5s = createHash("md5");
	for (const part of parts) md5s.update(Buffer.from(part.etag.replace(/"/g, ""), "hex"));
	const object: StoredObject = {
		key: upload.key,
		data: Buffer.concat(parts.map((p) => p.data)),
		etag: `"${md5s.digest("hex")}-${parts.length}"`,
		lastModified: ctx.now,
		contentType: upload.contentType,
		metadata: upload.metadata,
		storageClass: upload.storageClass,
		sse: upload.sse,
	};
	bucket.put(object);
	bucket.uploads.delete(upload.uploadId);
	return {
		...xml("CompleteMultipartUploadResult", {
			Location: `/${bucket.name}/${upload.key}`,
			Bucket: bucket.name,
			Key: upload.key,
			ETag: object.etag,
		}),
		headers: { "content-type": "application/xml", ...encryptionHeaders(object) },
	};
}

export function abortMultipartUpload(ctx: RequestContext): Reply {
	const bucket = bucketOf(ctx);
	const upload = uploadOf(ctx, bucket);
	bucket.uploads.delete(upload.uploadId);
	return { status: 204 };
}
