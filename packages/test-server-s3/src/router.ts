import type { IncomingHttpHeaders } from "node:http";
import type { Reply, RequestContext } from "./context.js";
import { errors } from "./errors.js";
import {
	createBucket,
	deleteBucket,
	getBucketLocation,
	headBucket,
	listBuckets,
} from "./ops/buckets.js";
import { copyObject } from "./ops/copy.js";
import { deleteObjects } from "./ops/delete-objects.js";
import { listObjectsV2 } from "./ops/list-objects.js";
import {
	abortMultipartUpload,
	completeMultipartUpload,
	createMultipartUpload,
	listMultipartUploads,
	listParts,
	uploadPart,
	uploadPartCopy,
} from "./ops/multipart.js";
import { deleteObject, getObject, headObject, putObject } from "./ops/objects.js";

export interface Route {
	/** The S3 operation name, as in AWS's API reference (used by faults and counters). */
	operation: string;
	handler: (ctx: RequestContext) => Reply;
	/** Requests that carry object data must state their length. */
	hasBody: boolean;
}

/** Query parameters that select no operation of their own. */
const PLAIN_PARAMS = new Set([
	"x-id",
	"list-type",
	"prefix",
	"delimiter",
	"max-keys",
	"continuation-token",
	"start-after",
	"encoding-type",
	"fetch-owner",
	"uploadId",
	"partNumber",
	"max-parts",
	"part-number-marker",
	"key-marker",
	"upload-id-marker",
	"max-uploads",
	"x-amz-checksum-mode",
	"response-content-type",
	"response-content-language",
	"response-expires",
	"response-cache-control",
	"response-content-disposition",
	"response-content-encoding",
]);

/** Path-style routing by method and sub-resource; anything else is refused explicitly. */
export function routeRequest(
	method: string,
	bucket: string | undefined,
	key: string | undefined,
	query: Map<string, string>,
	headers: IncomingHttpHeaders,
	region: string,
): Route {
	const sub = [...query.keys()].filter((k) => !PLAIN_PARAMS.has(k) && !k.startsWith("X-Amz-"));
	const only = (...allowed: string[]) => {
		const extra = sub.filter((s) => !allowed.includes(s));
		if (extra.length > 0)
			throw errors.notImplemented(`Sub-resource ?${extra.join("&")} is not implemented`);
	};
	const route = (operation: string, handler: Route["handler"], hasBody = false): Route => ({
		operation,
		handler,
		hasBody,
	});
	const copy = headers["x-amz-copy-source"] !== undefined;

	if (bucket === undefined) {
		if (method === "GET") return route("ListBuckets", listBuckets);
		throw errors.methodNotAllowed(method);
	}
	if (key === undefined) {
		switch (method) {
			case "PUT":
				only();
				return route("CreateBucket", createBucket);
			case "HEAD":
				only();
				return route("HeadBucket", headBucket);
			case "DELETE":
				only();
				return route("DeleteBucket", deleteBucket);
			case "GET":
				if (query.has("uploads")) {
					only("uploads");
					return route("ListMultipartUploads", listMultipartUploads);
				}
				if (query.has("location")) {
					only("location");
					return route("GetBucketLocation", (ctx) => getBucketLocation(ctx, region));
				}
				only();
				if (query.get("list-type") !== "2")
					throw errors.notImplemented("ListObjects (v1) is not implemented; use ListObjectsV2");
				return route("ListObjectsV2", listObjectsV2);
			case "POST":
				if (query.has("delete")) {
					only("delete");
					return route("DeleteObjects", deleteObjects);
				}
				throw errors.notImplemented();
			default:
				throw errors.methodNotAllowed(method);
		}
	}
	switch (method) {
		case "PUT":
			only();
			if (query.has("uploadId") || query.has("partNumber")) {
				return copy
					? route("UploadPartCopy", uploadPartCopy)
					: route("UploadPart", uploadPart, true);
			}
			return copy ? route("CopyObject", copyObject) : route("PutObject", putObject, true);
		case "GET":
			only();
			return query.has("uploadId") ? route("ListParts", listParts) : route("GetObject", getObject);
		case "HEAD":
			only();
			return route("HeadObject", headObject);
		case "DELETE":
			only();
			return query.has("uploadId")
				? route("AbortMultipartUpload", abortMultipartUpload)
				: route("DeleteObject", deleteObject);
		case "POST":
			if (query.has("uploads")) {
				only("uploads");
				return route("CreateMultipartUpload", createMultipartUpload);
			}
			only();
			if (query.has("uploadId")) return route("CompleteMultipartUpload", completeMultipartUpload);
			throw errors.notImplemented();
		default:
			throw errors.methodNotAllowed(method);
	}
}
