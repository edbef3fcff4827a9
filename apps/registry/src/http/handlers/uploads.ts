import { DigestInvalidError, RangeInvalidError, type UploadStatus } from "@stowage/core";
import {
	contentLength,
	hasBody,
	location,
	type RepositoryContext,
	requestBody,
} from "../context.js";
import { HttpError } from "../errors.js";
import { parseContentRange, uploadRange } from "../ranges.js";

/**
 * Blob uploads. The URL is all the state a client carries: `/v2/<name>/blobs/uploads/<id>`, with
 * no token, so any replica sharing the backend continues any upload.
 */

function uploadPath(name: string, id: string): string {
	return `/v2/${name}/blobs/uploads/${id}`;
}

function blobPath(name: string, digest: string): string {
	return `/v2/${name}/blobs/${digest}`;
}

function setUploadHeaders(ctx: RepositoryContext, id: string, offset: number): void {
	ctx.reply
		.header("Location", location(ctx, uploadPath(ctx.repository.name, id)))
		.header("Range", uploadRange(offset))
		.header("Docker-Upload-UUID", id)
		.header("Content-Length", "0");
}

async function sendUploadStatus(ctx: RepositoryContext, status: number, s: UploadStatus) {
	setUploadHeaders(ctx, s.id, s.offset);
	await ctx.reply.code(status).send();
}

async function sendBlobCreated(ctx: RepositoryContext, digest: string): Promise<void> {
	ctx.reply
		.code(201)
		.header("Location", location(ctx, blobPath(ctx.repository.name, digest)))
		.header("Docker-Content-Digest", digest)
		.header("Content-Length", "0");
	await ctx.reply.send();
}

/**
 * The chunk position a request declares: Content-Range (checked against Content-Length) gives
 * an offset and a length; otherwise only Content-Length, if any, bounds the body.
 */
function chunkBounds(ctx: RepositoryContext): { offset?: number; length?: number } {
	const declared = contentLength(ctx);
	const header = ctx.request.headers["content-range"];
	if (header === undefined) return declared === undefined ? {} : { length: declared };
	const span = parseContentRange(header);
	if (!span) {
		throw new HttpError(400, "BLOB_UPLOAD_INVALID", `malformed Content-Range ${header}`);
	}
	if (span.end < span.start) {
		throw new HttpError(416, "RANGE_INVALID", `Content-Range ${header} ends before it starts`);
	}
	const length = span.end - span.start + 1;
	if (declared !== undefined && declared !== length) {
		throw new HttpError(
			400,
			"SIZE_INVALID",
			`Content-Length ${declared} does not match Content-Range ${header}`,
		);
	}
	return { offset: span.start, length };
}

/**
 * A chunk that does not start at the upload's offset is answered 416 with where the upload
 * stands, so the client can resume from there.
 */
async function withUploadHeadersOnRangeError<T>(
	ctx: RepositoryContext,
	id: string,
	fn: () => Promise<T>,
): Promise<T> {
	try {
		return await fn();
	} catch (err) {
		if (err instanceof RangeInvalidError) {
			ctx.reply
				.header("Location", location(ctx, uploadPath(ctx.repository.name, id)))
				.header("Docker-Upload-UUID", id);
		}
		throw err;
	}
}

/** POST /v2/<name>/blobs/uploads/: a session, a cross-repository mount, or a whole blob. */
export async function startUpload(ctx: RepositoryContext): Promise<void> {
	const { repository, query, signal } = ctx;
	const mount = query.get("mount");
	const from = query.get("from");
	// Mounting needs pull on the source; without it the client silently gets a plain session, so
	// a repository it may not read cannot be probed for blobs.
	const readable = from && ctx.grant.allows({ type: "repository", name: from, action: "pull" });
	if (mount !== null && from && readable) {
		const mounted = await repository.blobs.mount(mount, from, { signal });
		if (mounted) {
			await sendBlobCreated(ctx, mounted.digest);
			return;
		}
		// Not mountable: the client gets a session and uploads the blob instead.
	}
	const digest = query.get("digest");
	if (digest !== null && mount === null) {
		await monolithicUpload(ctx, digest);
		return;
	}
	await sendUploadStatus(ctx, 202, await repository.uploads.start({ signal }));
}

/** POST ?digest=: the whole blob in one request. */
async function monolithicUpload(ctx: RepositoryContext, digest: string): Promise<void> {
	const { repository, signal } = ctx;
	const length = contentLength(ctx);
	const session = await repository.uploads.start({ signal });
	try {
		const descriptor = await repository.uploads.commit(session.id, digest, {
			body: requestBody(ctx),
			...(length !== undefined ? { length } : {}),
			signal,
		});
		await sendBlobCreated(ctx, descriptor.digest);
	} catch (err) {
		// The client never learnt this session's URL: nothing could resume it.
		await repository.uploads.cancel(session.id).catch(() => undefined);
		throw err;
	}
}

/** GET and HEAD /v2/<name>/blobs/uploads/<id>: where the upload stands. */
export async function uploadStatus(ctx: RepositoryContext, id: string): Promise<void> {
	await sendUploadStatus(ctx, 204, await ctx.repository.uploads.status(id, { signal: ctx.signal }));
}

/** PATCH: a streamed body (no Content-Range) or one chunk at a declared offset. */
export async function patchUpload(ctx: RepositoryContext, id: string): Promise<void> {
	const bounds = chunkBounds(ctx);
	const status = await withUploadHeadersOnRangeError(ctx, id, () =>
		ctx.repository.uploads.write(id, requestBody(ctx), { ...bounds, signal: ctx.signal }),
	);
	await sendUploadStatus(ctx, 202, status);
}

/** PUT ?digest=: an optional last chunk, then verify and store the blob. */
export async function finishUpload(ctx: RepositoryContext, id: string): Promise<void> {
	const digest = ctx.query.get("digest");
	if (!digest) throw new DigestInvalidError("", "the digest query parameter is required");
	const bounds = hasBody(ctx) || ctx.request.headers["content-range"] ? chunkBounds(ctx) : {};
	const descriptor = await withUploadHeadersOnRangeError(ctx, id, () =>
		ctx.repository.uploads.commit(id, digest, {
			...(hasBody(ctx) ? { body: requestBody(ctx) } : {}),
			...bounds,
			signal: ctx.signal,
		}),
	);
	await sendBlobCreated(ctx, descriptor.digest);
}

/** DELETE /v2/<name>/blobs/uploads/<id>: abandon the upload. */
export async function cancelUpload(ctx: RepositoryContext, id: string): Promise<void> {
	await ctx.repository.uploads.cancel(id, { signal: ctx.signal });
	ctx.reply.code(204);
	await ctx.reply.send();
}
