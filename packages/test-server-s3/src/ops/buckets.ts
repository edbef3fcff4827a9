import { bucketOf, OWNER, type Reply, type RequestContext, xml } from "../context.js";
import { errors } from "../errors.js";
import { Bucket } from "../store.js";

/** Bucket names per AWS's general-purpose bucket naming rules. */
export function isValidBucketName(name: string): boolean {
	return (
		/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) &&
		!name.includes("..") &&
		!/^\d+\.\d+\.\d+\.\d+$/.test(name)
	);
}

export function listBuckets(ctx: RequestContext): Reply {
	const buckets = [...ctx.store.buckets.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
	return xml("ListAllMyBucketsResult", {
		Owner: OWNER,
		Buckets: { Bucket: buckets.map((b) => ({ Name: b.name, CreationDate: b.created })) },
	});
}

export function createBucket(ctx: RequestContext): Reply {
	const name = ctx.bucketName as string;
	if (!isValidBucketName(name)) throw errors.invalidBucketName(name);
	if (ctx.store.buckets.has(name)) throw errors.bucketAlreadyOwnedByYou(name);
	ctx.store.buckets.set(name, new Bucket(name));
	return { status: 200, headers: { location: `/${name}` } };
}

export function headBucket(ctx: RequestContext): Reply {
	bucketOf(ctx);
	return { status: 200 };
}

export function deleteBucket(ctx: RequestContext): Reply {
	const bucket = bucketOf(ctx);
	if (bucket.size > 0 || bucket.uploads.size > 0) throw errors.bucketNotEmpty(bucket.name);
	ctx.store.buckets.delete(bucket.name);
	return { status: 204 };
}

export function getBucketLocation(ctx: RequestContext, region: string): Reply {
	bucketOf(ctx);
	return {
		status: 200,
		headers: { "content-type": "application/xml" },
		body: `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${region === "us-east-1" ? "" : region}</LocationConstraint>`,
	};
}
