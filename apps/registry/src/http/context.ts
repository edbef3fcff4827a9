import type { Registry, Repository } from "@stowage/core";
import { ManifestTooLargeError } from "@stowage/core";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Grant } from "../auth/controller.js";
import { HttpError } from "./errors.js";

/** What the server was configured to allow. */
export interface AppSettings {
	/** `storage.delete.enabled`: DELETE of blobs and manifests. */
	readonly deleteEnabled: boolean;
	/** Redirect blob reads to the driver's URLs when it has them (`storage.redirect.disable`). */
	readonly redirect: boolean;
	/** `storage.maintenance.readonly.enabled`: only reads are served. */
	readonly readOnly: boolean;
	/** `http.host` without a trailing slash, prefixed to Location headers; "" for absolute paths. */
	readonly baseUrl: string;
	/** `catalog.maxentries`: the catalog's default and largest page. */
	readonly catalogMaxEntries: number;
}

/** Everything a handler needs for one request. */
export interface RequestContext {
	readonly registry: Registry;
	readonly settings: AppSettings;
	readonly request: FastifyRequest;
	readonly reply: FastifyReply;
	readonly query: URLSearchParams;
	/** Aborted when the client goes away, cancelling the backend work it started. */
	readonly signal: AbortSignal;
	/** The request's Content-Type (kept aside so the framework never parses a body). */
	readonly contentType: string | undefined;
	/** What the client may do (everything when no auth is configured). */
	readonly grant: Grant;
}

export interface RepositoryContext extends RequestContext {
	readonly repository: Repository;
}

/** Body bytes read per request, for the access log. */
const bodyBytes = new WeakMap<object, number>();

export function bytesRead(request: FastifyRequest): number {
	return bodyBytes.get(request.raw) ?? 0;
}

/** The request body, streamed: the engine reads it with backpressure, nothing is buffered. */
export async function* requestBody(ctx: RequestContext): AsyncGenerator<Uint8Array> {
	const raw = ctx.request.raw;
	for await (const chunk of raw as AsyncIterable<Buffer>) {
		bodyBytes.set(raw, (bodyBytes.get(raw) ?? 0) + chunk.length);
		yield chunk;
	}
}

/** The declared Content-Length, or undefined for a chunked (or bodiless) request. */
export function contentLength(ctx: RequestContext): number | undefined {
	const raw = ctx.request.headers["content-length"];
	if (raw === undefined) return undefined;
	if (!/^\d{1,16}$/.test(raw)) {
		throw new HttpError(400, "SIZE_INVALID", `invalid Content-Length ${JSON.stringify(raw)}`);
	}
	return Number(raw);
}

/** Does the request carry a body at all? */
export function hasBody(ctx: RequestContext): boolean {
	const length = contentLength(ctx);
	return length !== undefined ? length > 0 : ctx.request.headers["transfer-encoding"] !== undefined;
}

/**
 * Read a small body (a manifest) whole, failing as soon as it passes `limit`: a declared length
 * over the limit is refused before reading, a chunked body once it crosses it.
 */
export async function readSmallBody(ctx: RequestContext, limit: number): Promise<Buffer> {
	const declared = contentLength(ctx);
	if (declared !== undefined && declared > limit) throw new ManifestTooLargeError(declared, limit);
	const chunks: Buffer[] = [];
	let total = 0;
	for await (const chunk of requestBody(ctx)) {
		total += chunk.length;
		if (total > limit) throw new ManifestTooLargeError(total, limit);
		chunks.push(chunk as Buffer);
	}
	return Buffer.concat(chunks, total);
}

/** A Location header value for an API path. */
export function location(ctx: RequestContext, path: string): string {
	return `${ctx.settings.baseUrl}${path}`;
}

/** `?n=`: a non-negative integer, or undefined when absent. */
export function pageSize(ctx: RequestContext): number | undefined {
	const raw = ctx.query.get("n");
	if (raw === null || raw === "") return undefined;
	if (!/^\d{1,9}$/.test(raw)) {
		throw new HttpError(400, "PAGINATION_NUMBER_INVALID", `invalid page size n=${raw}`, { n: raw });
	}
	return Number(raw);
}

/** `Link: <path?n=&last=>; rel="next"`, as Distribution and the OCI spec give it. */
export function nextLink(ctx: RequestContext, path: string, n: number, last: string): string {
	const query = new URLSearchParams({ n: String(n), last });
	return `<${location(ctx, path)}?${query}>; rel="next"`;
}
