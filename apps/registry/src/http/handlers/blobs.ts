import { isFillable, UnsupportedError } from "@stowage/core";
import type { RepositoryContext } from "../context.js";
import { HttpError } from "../errors.js";
import { parseRange } from "../ranges.js";
import { sendFilled } from "../send-filled.js";

/** Blobs are content-addressed: a URL's bytes never change. */
const IMMUTABLE = "max-age=31536000";

/** `If-None-Match` naming the digest (quoted or not) or `*`. */
export function matchesETag(header: string | undefined, digest: string): boolean {
	if (!header) return false;
	return header
		.split(",")
		.map((t) =>
			t
				.trim()
				.replace(/^W\//, "")
				.replace(/^"(.*)"$/, "$1"),
		)
		.some((t) => t === "*" || t === digest);
}

/** GET and HEAD /v2/<name>/blobs/<digest>. */
export async function getBlob(ctx: RepositoryContext, digest: string): Promise<void> {
	const { repository, reply, request, signal } = ctx;
	const method = request.method === "HEAD" ? "HEAD" : "GET";
	if (ctx.settings.redirect) {
		const url = await repository.blobs.redirectURL(digest, { method, signal });
		if (url) {
			reply.code(307).header("Location", url).header("Docker-Content-Digest", digest);
			await reply.send();
			return;
		}
	}
	const descriptor = await repository.blobs.stat(digest, { signal });
	const etag = `"${descriptor.digest}"`;
	reply
		.header("Docker-Content-Digest", descriptor.digest)
		.header("ETag", etag)
		.header("Cache-Control", IMMUTABLE)
		.header("Accept-Ranges", "bytes");
	if (matchesETag(request.headers["if-none-match"], descriptor.digest)) {
		await reply.code(304).send();
		return;
	}
	const range = parseRange(request.headers.range, descriptor.size);
	if (range === "unsatisfiable") {
		throw new HttpError(
			416,
			"RANGE_INVALID",
			`range ${request.headers.range} is outside the blob`,
			{ size: descriptor.size },
			{ "Content-Range": `bytes */${descriptor.size}` },
		);
	}
	const start = range?.start ?? 0;
	const length = range ? range.end - range.start + 1 : descriptor.size;
	reply.header("Content-Type", "application/octet-stream").header("Content-Length", String(length));
	if (range) {
		reply.code(206).header("Content-Range", `bytes ${range.start}-${range.end}/${descriptor.size}`);
	}
	if (method === "HEAD") {
		await reply.send();
		return;
	}
	const { stream } = await repository.blobs.open(digest, { offset: start, length, signal });
	if (isFillable(stream)) {
		await sendFilled(reply, stream, length);
		return;
	}
	await reply.send(stream);
}

/** DELETE /v2/<name>/blobs/<digest>: unlinks the blob from the repository. */
export async function deleteBlob(ctx: RepositoryContext, digest: string): Promise<void> {
	if (!ctx.settings.deleteEnabled) throw new UnsupportedError("deletes are disabled");
	await ctx.repository.blobs.delete(digest, { signal: ctx.signal });
	ctx.reply.code(202).header("Docker-Content-Digest", digest).header("Content-Length", "0");
	await ctx.reply.send();
}
