import { isDigestReference, isManifestMediaType, UnsupportedError } from "@stowage/core";
import { location, type RepositoryContext, readSmallBody } from "../context.js";
import { HttpError } from "../errors.js";
import { matchesETag } from "./blobs.js";

/**
 * Content negotiation, as Distribution does it: a client whose Accept lists manifest types but
 * not this one cannot parse it, so it is told the manifest is unknown rather than handed bytes it
 * would misread. An Accept without any manifest type (absent, `*\/*`, `application/json`)
 * accepts every format.
 */
export function accepts(header: string | string[] | undefined, mediaType: string): boolean {
	const values = (Array.isArray(header) ? header.join(",") : (header ?? ""))
		.split(",")
		.map((v) => v.split(";")[0]?.trim().toLowerCase() ?? "")
		.filter((v) => v !== "");
	const manifestTypes = values.filter(
		(v) => isManifestMediaType(v) || v.startsWith("application/vnd.docker.distribution.manifest"),
	);
	return manifestTypes.length === 0 || manifestTypes.includes(mediaType) || values.includes("*/*");
}

/** GET and HEAD /v2/<name>/manifests/<tag-or-digest>. */
export async function getManifest(ctx: RepositoryContext, reference: string): Promise<void> {
	const { repository, reply, request, signal } = ctx;
	const { descriptor, content } = await repository.manifests.get(reference, { signal });
	if (!accepts(request.headers.accept, descriptor.mediaType)) {
		throw new HttpError(
			404,
			"MANIFEST_UNKNOWN",
			`the manifest is ${descriptor.mediaType}, which the Accept header does not list`,
			{ mediaType: descriptor.mediaType },
		);
	}
	reply
		.header("Docker-Content-Digest", descriptor.digest)
		.header("ETag", `"${descriptor.digest}"`)
		.header("Content-Type", descriptor.mediaType);
	if (isDigestReference(reference)) reply.header("Cache-Control", "max-age=31536000");
	if (matchesETag(request.headers["if-none-match"], descriptor.digest)) {
		await reply.code(304).send();
		return;
	}
	reply.header("Content-Length", String(descriptor.size));
	await reply.send(request.method === "HEAD" ? undefined : content);
}

/** PUT /v2/<name>/manifests/<tag-or-digest>, with optional `?tag=` extra tags (OCI 1.1). */
export async function putManifest(ctx: RepositoryContext, reference: string): Promise<void> {
	const { repository, reply, signal } = ctx;
	const content = await readSmallBody(ctx, repository.manifests.sizeLimit);
	const result = await repository.manifests.put(reference, content, {
		...(ctx.contentType !== undefined ? { contentType: ctx.contentType } : {}),
		tags: ctx.query.getAll("tag"),
		signal,
	});
	const { digest } = result.descriptor;
	reply
		.code(201)
		.header("Location", location(ctx, `/v2/${repository.name}/manifests/${digest}`))
		.header("Docker-Content-Digest", digest)
		.header("Content-Length", "0");
	if (result.subject) reply.header("OCI-Subject", result.subject);
	if (ctx.query.getAll("tag").length > 0) reply.header("OCI-Tag", result.tags.join(","));
	await reply.send();
}

/** DELETE by digest (the manifest and its tags) or by tag (the tag only). */
export async function deleteManifest(ctx: RepositoryContext, reference: string): Promise<void> {
	if (!ctx.settings.deleteEnabled) throw new UnsupportedError("deletes are disabled");
	await ctx.repository.manifests.delete(reference, { signal: ctx.signal });
	ctx.reply.code(202).header("Content-Length", "0");
	await ctx.reply.send();
}
