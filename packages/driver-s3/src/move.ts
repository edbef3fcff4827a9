import {
	CompleteMultipartUploadCommand,
	CopyObjectCommand,
	CreateMultipartUploadCommand,
	DeleteObjectCommand,
	HeadObjectCommand,
	UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { PathNotFoundError, StorageDriverError } from "@stowage/core";
import { mapLimit } from "./concurrency.js";
import { type DriverContext, writeAttributes } from "./context.js";
import { isNoSuchUpload, isNotFound } from "./errors.js";
import { S3_MAX_PART_SIZE } from "./options.js";
import { abortUpload } from "./upload-state.js";

/** `x-amz-copy-source`: bucket and key, URL-encoded per segment. */
export function copySource(bucket: string, key: string): string {
	return `${encodeURIComponent(bucket)}/${key.split("/").map(encodeURIComponent).join("/")}`;
}

/**
 * Move = server-side copy, then delete the source. Up to `multipartcopythresholdsize` one
 * CopyObject; above it (and always above S3's 5 GiB single-copy limit) a multipart copy whose
 * UploadPartCopy ranges run in parallel. Every copy is pinned to the source's ETag.
 */
export async function movePath(
	ctx: DriverContext,
	source: string,
	dest: string,
	signal: AbortSignal | undefined,
): Promise<void> {
	const srcKey = ctx.keys.key(source);
	let size: number;
	let etag: string | undefined;
	try {
		const head = await ctx.client.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: srcKey }), {
			abortSignal: signal,
		});
		size = head.ContentLength ?? 0;
		etag = head.ETag;
	} catch (err) {
		if (isNotFound(err)) throw new PathNotFoundError(ctx.name, source, { cause: err });
		throw err;
	}
	if (source === dest) return;
	const destKey = ctx.keys.key(dest);
	if (size <= Math.min(ctx.options.copyThreshold, S3_MAX_PART_SIZE)) {
		await ctx.client.send(
			new CopyObjectCommand({
				Bucket: ctx.bucket,
				Key: destKey,
				CopySource: copySource(ctx.bucket, srcKey),
				...(etag ? { CopySourceIfMatch: etag } : {}),
				MetadataDirective: "COPY",
				...writeAttributes(ctx.options),
			}),
			{ abortSignal: signal },
		);
	} else {
		await multipartCopy(ctx, srcKey, destKey, size, etag, signal);
	}
	await ctx.client.send(new DeleteObjectCommand({ Bucket: ctx.bucket, Key: srcKey }), {
		abortSignal: signal,
	});
}

async function multipartCopy(
	ctx: DriverContext,
	srcKey: string,
	destKey: string,
	size: number,
	etag: string | undefined,
	signal: AbortSignal | undefined,
): Promise<void> {
	const o = ctx.options;
	// Stay within the part-count limit however large the object.
	const chunk = Math.max(o.copyChunkSize, Math.ceil(size / o.maxParts));
	if (chunk > S3_MAX_PART_SIZE)
		throw new StorageDriverError(ctx.name, `${srcKey} is too large to copy (${size} bytes)`);
	const ranges: [number, number][] = [];
	for (let start = 0; start < size; start += chunk)
		ranges.push([start, Math.min(size, start + chunk) - 1]);
	const created = await ctx.client.send(
		new CreateMultipartUploadCommand({ Bucket: ctx.bucket, Key: destKey, ...writeAttributes(o) }),
		{ abortSignal: signal },
	);
	const uploadId = created.UploadId as string;
	try {
		const parts = await mapLimit(ranges, o.copyMaxConcurrency, async ([first, last], i) => {
			const out = await ctx.client.send(
				new UploadPartCopyCommand({
					Bucket: ctx.bucket,
					Key: destKey,
					UploadId: uploadId,
					PartNumber: i + 1,
					CopySource: copySource(ctx.bucket, srcKey),
					CopySourceRange: `bytes=${first}-${last}`,
					...(etag ? { CopySourceIfMatch: etag } : {}),
				}),
				{ abortSignal: signal },
			);
			return { PartNumber: i + 1, ETag: out.CopyPartResult?.ETag as string };
		});
		try {
			await ctx.client.send(
				new CompleteMultipartUploadCommand({
					Bucket: ctx.bucket,
					Key: destKey,
					UploadId: uploadId,
					MultipartUpload: { Parts: parts },
				}),
				{ abortSignal: signal },
			);
		} catch (err) {
			// A retried Complete whose first answer was lost: done only if the copy is there.
			if (!isNoSuchUpload(err)) throw err;
			const head = await ctx.client
				.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: destKey }), { abortSignal: signal })
				.catch((e: unknown) => {
					if (isNotFound(e)) return undefined;
					throw e;
				});
			if (head?.ContentLength !== size) throw err;
		}
	} catch (err) {
		await abortUpload(ctx, destKey, uploadId).catch(() => undefined);
		throw err;
	}
}
