import { OCI_INDEX } from "@stowage/core";
import { nextLink, pageSize, type RepositoryContext, type RequestContext } from "../context.js";

/** GET /v2/<name>/tags/list?n=&last= */
export async function listTags(ctx: RepositoryContext): Promise<void> {
	const n = pageSize(ctx);
	const last = ctx.query.get("last") ?? undefined;
	const name = ctx.repository.name;
	const { tags, more } = await ctx.repository.tags.list({
		...(n !== undefined ? { n } : {}),
		...(last !== undefined ? { last } : {}),
		signal: ctx.signal,
	});
	const lastTag = tags.at(-1);
	if (more && n !== undefined && lastTag !== undefined) {
		ctx.reply.header("Link", nextLink(ctx, `/v2/${name}/tags/list`, n, lastTag));
	}
	await ctx.reply.send({ name, tags });
}

/** GET /v2/_catalog?n=&last= */
export async function listCatalog(ctx: RequestContext): Promise<void> {
	const max = ctx.settings.catalogMaxEntries;
	const n = Math.min(pageSize(ctx) ?? max, max);
	const last = ctx.query.get("last") ?? undefined;
	const { repositories, more } = await ctx.registry.catalog({
		n,
		...(last !== undefined ? { last } : {}),
		signal: ctx.signal,
	});
	const lastName = repositories.at(-1);
	if (more && lastName !== undefined) {
		ctx.reply.header("Link", nextLink(ctx, "/v2/_catalog", n, lastName));
	}
	await ctx.reply.send({ repositories });
}

/** GET /v2/<name>/referrers/<digest>?artifactType= */
export async function listReferrers(ctx: RepositoryContext, digest: string): Promise<void> {
	const artifactType = ctx.query.get("artifactType") ?? undefined;
	const index = await ctx.repository.manifests.referrers(digest, {
		...(artifactType !== undefined ? { artifactType } : {}),
		signal: ctx.signal,
	});
	ctx.reply.header("Content-Type", OCI_INDEX);
	if (artifactType !== undefined) ctx.reply.header("OCI-Filters-Applied", "artifactType");
	await ctx.reply.send(Buffer.from(JSON.stringify(index)));
}
