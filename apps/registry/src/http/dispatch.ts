import { UnsupportedError } from "@stowage/core";
import type { RepositoryContext, RequestContext } from "./context.js";
import { HttpError } from "./errors.js";
import { deleteBlob, getBlob } from "./handlers/blobs.js";
import { listCatalog, listReferrers, listTags } from "./handlers/listings.js";
import { deleteManifest, getManifest, putManifest } from "./handlers/manifests.js";
import {
	cancelUpload,
	finishUpload,
	patchUpload,
	startUpload,
	uploadStatus,
} from "./handlers/uploads.js";
import type { OciRoute } from "./oci-path.js";

type Handler<C> = (ctx: C) => Promise<void>;
type Methods<C> = Partial<Record<string, Handler<C>>>;

/** Handlers of the routes outside any repository. GET handlers also answer HEAD. */
function registryMethods(route: OciRoute): Methods<RequestContext> {
	switch (route.kind) {
		case "base":
			return { GET: async (ctx) => void (await ctx.reply.send({})) };
		case "catalog":
			return { GET: listCatalog };
		default:
			return {};
	}
}

/** Handlers of the routes inside a repository. */
function repositoryMethods(route: OciRoute): Methods<RepositoryContext> {
	switch (route.kind) {
		case "tags":
			return { GET: listTags };
		case "manifest":
			return {
				GET: (ctx) => getManifest(ctx, route.reference),
				PUT: (ctx) => putManifest(ctx, route.reference),
				DELETE: (ctx) => deleteManifest(ctx, route.reference),
			};
		case "blob":
			return {
				GET: (ctx) => getBlob(ctx, route.digest),
				DELETE: (ctx) => deleteBlob(ctx, route.digest),
			};
		case "uploads":
			return { POST: startUpload };
		case "upload":
			return {
				GET: (ctx) => uploadStatus(ctx, route.id),
				PATCH: (ctx) => patchUpload(ctx, route.id),
				PUT: (ctx) => finishUpload(ctx, route.id),
				DELETE: (ctx) => cancelUpload(ctx, route.id),
			};
		case "referrers":
			return { GET: (ctx) => listReferrers(ctx, route.digest) };
		default:
			return {};
	}
}

const READS = new Set(["GET", "HEAD"]);

/** Run the handler for a parsed route; unknown methods are 405 UNSUPPORTED with an Allow list. */
export async function dispatch(ctx: RequestContext, route: OciRoute): Promise<void> {
	const inRepository = "name" in route;
	const methods = inRepository ? repositoryMethods(route) : registryMethods(route);
	const method = ctx.request.method === "HEAD" ? "GET" : ctx.request.method;
	const handler = methods[method];
	if (!handler) {
		const allow = Object.keys(methods).flatMap((m) => (m === "GET" ? ["GET", "HEAD"] : [m]));
		throw new HttpError(
			405,
			"UNSUPPORTED",
			`${ctx.request.method} is not supported here`,
			undefined,
			{ Allow: allow.join(", ") },
		);
	}
	if (ctx.settings.readOnly && !READS.has(ctx.request.method)) {
		throw new UnsupportedError(
			"the registry is in read-only mode (storage.maintenance.readonly): only GET and HEAD are served",
		);
	}
	if (inRepository) {
		// Validates the name: NAME_INVALID before anything touches storage.
		const repository = ctx.registry.repository(route.name);
		await (handler as Handler<RepositoryContext>)({ ...ctx, repository });
		return;
	}
	await (handler as Handler<RequestContext>)(ctx);
}
