import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { PathNotFoundError } from "@stowage/core";
import type { DriverContext } from "./context.js";
import { isNotFound } from "./errors.js";
import { listPages } from "./listing.js";
import { abortUpload, deleteKeys, sweepOrphanUploads } from "./upload-state.js";

const MPU_RE = /\/mpu\.\d+\.([A-Za-z0-9_-]+)$/;

/**
 * Delete a file or a directory, true subpaths only (`/a` never touches `/ab`). Upload state
 * below the path goes first, aborting its multipart uploads so no parts are left billing; the
 * content is then deleted in DeleteObjects batches of at most 1,000 keys. Nothing visible at
 * the path is PathNotFoundError (after the state was cleaned anyway).
 */
export async function deletePath(
	ctx: DriverContext,
	path: string,
	signal: AbortSignal | undefined,
): Promise<void> {
	await deleteUploadState(ctx, path, signal);
	const key = ctx.keys.key(path);
	let exact = false;
	try {
		await ctx.client.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: key }), {
			abortSignal: signal,
		});
		exact = true;
	} catch (err) {
		if (!isNotFound(err)) throw err;
	}
	let found = exact;
	for await (const page of listPages(ctx, { Prefix: `${key}/` }, signal)) {
		const keys = (page.Contents ?? []).map((c) => c.Key as string);
		if (keys.length > 0) {
			found = true;
			await deleteKeys(ctx, keys, signal);
		}
	}
	if (!found) throw new PathNotFoundError(ctx.name, path);
	if (exact) await deleteKeys(ctx, [key], signal);
}

/** Abort the uploads and delete the state objects of `path` and of every path below it. */
async function deleteUploadState(
	ctx: DriverContext,
	path: string,
	signal: AbortSignal | undefined,
): Promise<void> {
	const scan = ctx.keys.stateScanPrefix(path);
	const own = `${scan}~/`;
	const below = `${scan}/`;
	const keys: string[] = [];
	for await (const page of listPages(ctx, { Prefix: scan }, signal)) {
		for (const c of page.Contents ?? []) {
			const k = c.Key as string;
			if (k.startsWith(own) || k.startsWith(below)) keys.push(k);
		}
	}
	if (keys.length === 0) return;
	const marked = new Set<string>();
	for (const k of keys) {
		const owner = ctx.keys.pathOfState(k);
		if (owner === undefined) continue;
		const m = MPU_RE.exec(k);
		if (m) {
			marked.add(owner);
			await abortUpload(
				ctx,
				ctx.keys.key(owner),
				Buffer.from(m[1] as string, "base64url").toString("utf8"),
				signal,
			);
		}
	}
	for (const k of keys) {
		const owner = ctx.keys.pathOfState(k);
		if (owner !== undefined && k.endsWith("/mpu-pending") && !marked.has(owner)) {
			await sweepOrphanUploads(ctx, ctx.keys.key(owner), undefined, signal);
		}
	}
	await deleteKeys(ctx, keys, signal);
}
