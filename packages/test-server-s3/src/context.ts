import type { IncomingHttpHeaders } from "node:http";
import { errors, S3Error } from "./errors.js";
import type { Stats } from "./faults.js";
import type { Bucket, ObjectAttributes, Store, StoredObject } from "./store.js";
import { toXml, type XmlFields } from "./xml.js";

/** The limits S3 enforces; tests lower them to reach the interesting cases quickly. */
export interface ServerLimits {
	/** Smallest size of a part that is not the last one, checked at CompleteMultipartUpload. */
	minPartSize: number;
	/** Highest part number (AWS: 10,000). */
	maxPartNumber: number;
	/** Page size cap of ListParts (AWS: 1,000). */
	maxListParts: number;
	/** Page size cap of ListMultipartUploads (AWS: 1,000). */
	maxListUploads: number;
	/** Page size cap of ListObjectsV2 (AWS: 1,000). */
	maxListKeys: number;
	/** Largest source of a CopyObject, and of one UploadPartCopy range (AWS: 5 GiB). */
	maxCopySize: number;
	/** Largest PutObject body and part (AWS: 5 GiB). */
	maxUploadSize: number;
}

export interface RequestContext {
	method: string;
	operation: string;
	bucketName: string | undefined;
	key: string | undefined;
	/** Decoded query parameters (the last value wins). */
	query: Map<string, string>;
	headers: IncomingHttpHeaders;
	/** The object bytes: aws-chunked framing already removed. */
	body: Buffer;
	store: Store;
	limits: ServerLimits;
	stats: Stats;
	now: Date;
}

export interface Reply {
	status: number;
	headers?: Record<string, string | number | undefined>;
	body?: Buffer | string;
}

export function header(ctx: RequestContext, name: string): string | undefined {
	const v = ctx.headers[name];
	return Array.isArray(v) ? v.join(",") : v;
}

export function bucketOf(ctx: RequestContext): Bucket {
	const name = ctx.bucketName as string;
	const bucket = ctx.store.buckets.get(name);
	if (!bucket) throw errors.noSuchBucket(name);
	return bucket;
}

export function keyOf(ctx: RequestContext): string {
	const key = ctx.key as string;
	if (Buffer.byteLength(key) > 1024) throw errors.keyTooLong();
	return key;
}

export function xml(root: string, fields: XmlFields, status = 200): Reply {
	return { status, headers: { "content-type": "application/xml" }, body: toXml(root, fields) };
}

/** A non-negative integer query parameter, or the default; garbage is InvalidArgument. */
export function intParam(ctx: RequestContext, name: string, fallback: number): number {
	const raw = ctx.query.get(name);
	if (raw === undefined || raw === "") return fallback;
	if (!/^\d+$/.test(raw))
		throw errors.invalidArgument(
			`Provided ${name} not an integer or within integer range`,
			name,
			raw,
		);
	return Number(raw);
}

const STORAGE_CLASSES = new Set([
	"STANDARD",
	"REDUCED_REDUNDANCY",
	"STANDARD_IA",
	"ONEZONE_IA",
	"INTELLIGENT_TIERING",
	"GLACIER",
	"DEEP_ARCHIVE",
	"GLACIER_IR",
	"OUTPOSTS",
	"SNOW",
	"EXPRESS_ONEZONE",
]);
const CANNED_ACLS = new Set([
	"private",
	"public-read",
	"public-read-write",
	"authenticated-read",
	"aws-exec-read",
	"bucket-owner-read",
	"bucket-owner-full-control",
]);
const SSE_ALGORITHMS = new Set(["AES256", "aws:kms", "aws:kms:dsse"]);

/** Content type, user metadata, storage class and encryption from a write request's headers. */
export function attributesFrom(ctx: RequestContext): ObjectAttributes {
	const storageClass = header(ctx, "x-amz-storage-class") ?? "STANDARD";
	if (!STORAGE_CLASSES.has(storageClass)) {
		throw new S3Error("InvalidStorageClass", 400, "The storage class you specified is not valid", {
			StorageClassRequested: storageClass,
		});
	}
	const acl = header(ctx, "x-amz-acl");
	if (acl !== undefined && !CANNED_ACLS.has(acl))
		throw errors.invalidArgument("", "x-amz-acl", acl);
	const algorithm = header(ctx, "x-amz-server-side-encryption");
	const kmsKeyId = header(ctx, "x-amz-server-side-encryption-aws-kms-key-id");
	if (algorithm !== undefined && !SSE_ALGORITHMS.has(algorithm)) {
		throw errors.invalidArgument(
			"Server Side Encryption with an unknown algorithm",
			"x-amz-server-side-encryption",
			algorithm,
		);
	}
	if (kmsKeyId !== undefined && !algorithm?.startsWith("aws:kms")) {
		throw errors.invalidArgument(
			"A KMS key id requires aws:kms encryption",
			"x-amz-server-side-encryption-aws-kms-key-id",
			kmsKeyId,
		);
	}
	const metadata: Record<string, string> = {};
	for (const [name, value] of Object.entries(ctx.headers)) {
		if (name.startsWith("x-amz-meta-") && typeof value === "string")
			metadata[name.slice(11)] = value;
	}
	return {
		contentType: header(ctx, "content-type") ?? "binary/octet-stream",
		metadata,
		storageClass,
		sse: algorithm === undefined ? undefined : { algorithm, kmsKeyId },
	};
}

/** The headers S3 returns with an object (GET, HEAD) or after writing one. */
export function encryptionHeaders(
	attributes: ObjectAttributes,
): Record<string, string | undefined> {
	return {
		"x-amz-server-side-encryption": attributes.sse?.algorithm,
		"x-amz-server-side-encryption-aws-kms-key-id": attributes.sse?.kmsKeyId,
	};
}

export function objectHeaders(object: StoredObject): Record<string, string | number | undefined> {
	const headers: Record<string, string | number | undefined> = {
		"content-type": object.contentType,
		etag: object.etag,
		"last-modified": object.lastModified.toUTCString(),
		"accept-ranges": "bytes",
		"x-amz-storage-class": object.storageClass === "STANDARD" ? undefined : object.storageClass,
		...encryptionHeaders(object),
	};
	for (const [name, value] of Object.entries(object.metadata))
		headers[`x-amz-meta-${name}`] = value;
	return headers;
}

/** ETags compare without their quotes, and `*` matches any. */
export function etagMatches(condition: string, etag: string): boolean {
	const bare = etag.replace(/"/g, "");
	return condition.split(",").some((c) => {
		const t = c.trim().replace(/^W\//, "").replace(/"/g, "");
		return t === "*" || t === bare;
	});
}

export const OWNER = {
	ID: "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a",
	DisplayName: "stowage-test",
};
