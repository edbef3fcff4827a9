import type { KeyObject } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type Copier, type CopyRequest, compose, composeSources } from "./copies.js";
import { badRequest, GcsError, required, XmlError } from "./errors.js";
import type { FaultRule, Faults, Operation } from "./faults.js";
import { int64Param, preconditions, readJson, resourceFrom, sendJson } from "./http-util.js";
import { listObjects, MAX_RESULTS } from "./listing.js";
import { serveMedia } from "./media.js";
import { bucketResource, objectResource } from "./resource.js";
import type { Sessions } from "./resumable.js";
import { verifySignedUrl } from "./signed-urls.js";
import { checkPreconditions, type Store } from "./store.js";
import { declaredHashes, mediaUpload, multipartUpload } from "./uploads.js";

/** What every handler gets: the request, its parsed URL, and the server's parts. */
export interface Context {
	req: IncomingMessage;
	res: ServerResponse;
	q: URLSearchParams;
	/** The path as sent (still percent-encoded), for signature checks. */
	rawPath: string;
	/** Path segments, percent-decoded. */
	segs: string[];
	/** `http://host:port` as the client addressed the server, for Location and links. */
	base: string;
	fault?: FaultRule;
	server: ServerParts;
}

export interface ServerParts {
	store: Store;
	sessions: Sessions;
	copier: Copier;
	faults: Faults;
	signers: ReadonlyMap<string, KeyObject>;
	requestLog: () => unknown;
}

export interface Route {
	op: Operation;
	/** XML API routes answer errors in XML. */
	xml?: boolean;
	run: (c: Context) => Promise<void> | void;
}

/**
 * Map a request to its JSON API (or XML API) operation. The SDK uses /storage/v1 for metadata,
 * /upload/storage/v1 for uploads, and /download/storage/v1 or /storage/v1 with alt=media for
 * content; signed URLs are path-style XML API requests (/bucket/object).
 */
export function route(method: string, segs: string[], q: URLSearchParams): Route | undefined {
	const [s0, s1, s2] = segs;
	if (s0 === "_testserver") return controlRoute(method, segs.slice(1));
	if (s0 === "storage" && s1 === "v1") return jsonRoute(method, segs.slice(2), q);
	if ((s0 === "upload" || s0 === "download") && s1 === "storage" && s2 === "v1") {
		const rest = segs.slice(3);
		if (rest[0] !== "b" || rest[2] !== "o" || rest[1] === undefined) return undefined;
		const bucket = rest[1];
		if (s0 === "download") {
			const name = rest[3];
			if (rest.length !== 4 || name === undefined || method !== "GET") return undefined;
			return { op: "objects.media", run: (c) => getMedia(c, bucket, name) };
		}
		if (rest.length !== 3) return undefined;
		if (method === "POST") return { op: uploadOp(q), run: (c) => upload(c, bucket) };
		if (method === "PUT") return { op: "resumable.put", run: (c) => putChunk(c) };
		if (method === "DELETE") return { op: "resumable.cancel", run: (c) => cancelSession(c) };
		return undefined;
	}
	if (segs.length >= 2 && (method === "GET" || method === "HEAD") && s0) {
		const name = segs.slice(1).join("/");
		return { op: "signed.get", xml: true, run: (c) => signedGet(c, s0, name) };
	}
	return undefined;
}

function uploadOp(q: URLSearchParams): Operation {
	return q.get("uploadType") === "resumable" ? "resumable.start" : "objects.insert";
}

function jsonRoute(method: string, p: string[], q: URLSearchParams): Route | undefined {
	if (p[0] !== "b") return undefined;
	if (p.length === 1) {
		if (method === "POST") return { op: "buckets.insert", run: insertBucket };
		return undefined;
	}
	const bucket = p[1] as string;
	if (p.length === 2) {
		if (method === "GET") return { op: "buckets.get", run: (c) => getBucket(c, bucket) };
		if (method === "DELETE") return { op: "buckets.delete", run: (c) => deleteBucket(c, bucket) };
		return undefined;
	}
	if (p[2] !== "o") return undefined;
	if (p.length === 3) {
		if (method === "GET") return { op: "objects.list", run: (c) => list(c, bucket) };
		return undefined;
	}
	const name = p[3] as string;
	if (p.length === 4) {
		if (method === "GET") {
			return q.get("alt") === "media"
				? { op: "objects.media", run: (c) => getMedia(c, bucket, name) }
				: { op: "objects.get", run: (c) => getObject(c, bucket, name) };
		}
		if (method === "DELETE")
			return { op: "objects.delete", run: (c) => deleteObject(c, bucket, name) };
		return undefined;
	}
	if (p.length === 5 && p[4] === "compose" && method === "POST") {
		return { op: "objects.compose", run: (c) => composeObject(c, bucket, name) };
	}
	if (p.length === 9 && p[5] === "b" && p[7] === "o" && method === "POST") {
		const target = { dstBucket: p[6] as string, dstName: p[8] as string };
		if (p[4] === "copyTo") return { op: "objects.copy", run: (c) => copy(c, bucket, name, target) };
		if (p[4] === "rewriteTo") {
			return { op: "objects.rewrite", run: (c) => rewrite(c, bucket, name, target) };
		}
	}
	return undefined;
}

async function insertBucket(c: Context): Promise<void> {
	if (!c.q.get("project")) throw required("project");
	const body = await readJson(c.req);
	if (typeof body.name !== "string") throw required("name");
	const created = c.server.store.createBucket(body.name);
	sendJson(c.res, 200, bucketResource(body.name, created, c.base));
}

function getBucket(c: Context, bucket: string): void {
	sendJson(c.res, 200, bucketResource(bucket, c.server.store.bucketCreated(bucket), c.base));
}

function deleteBucket(c: Context, bucket: string): void {
	c.server.store.deleteBucket(bucket);
	c.res.writeHead(204).end();
}

function list(c: Context, bucket: string): void {
	const { q } = c;
	const rawMax = q.get("maxResults");
	let maxResults = MAX_RESULTS;
	if (rawMax !== null) {
		const n = Number(rawMax);
		if (!Number.isInteger(n) || n < 0) throw badRequest(`Invalid value for maxResults: ${rawMax}`);
		if (n > 0) maxResults = Math.min(n, MAX_RESULTS);
	}
	const page = listObjects(c.server.store, bucket, {
		prefix: q.get("prefix") ?? "",
		maxResults,
		includeTrailingDelimiter: q.get("includeTrailingDelimiter") === "true",
		...optional("delimiter", q.get("delimiter") || undefined),
		...optional("pageToken", q.get("pageToken") ?? undefined),
		...optional("startOffset", q.get("startOffset") || undefined),
		...optional("endOffset", q.get("endOffset") || undefined),
	});
	sendJson(c.res, 200, {
		kind: "storage#objects",
		...(page.nextPageToken && { nextPageToken: page.nextPageToken }),
		...(page.prefixes.length > 0 && { prefixes: page.prefixes }),
		...(page.items.length > 0 && { items: page.items.map((o) => objectResource(o, c.base)) }),
	});
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
	return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** A read's preconditions: a failed NotMatch is 304 Not Modified, as on GCS. */
function checkReadPreconditions(c: Context, obj: Parameters<typeof checkPreconditions>[0]): void {
	try {
		checkPreconditions(obj, preconditions(c.q));
	} catch (err) {
		const where = err instanceof GcsError ? err.location?.location : undefined;
		if (where === "If-None-Match" || where === "If-Metageneration-Not-Match") {
			c.res.writeHead(304).end();
			throw new HandledResponse();
		}
		throw err;
	}
}

/** Thrown after a handler has answered itself, to stop without a second response. */
export class HandledResponse extends Error {}

function getObject(c: Context, bucket: string, name: string): void {
	const obj = c.server.store.get(bucket, name, int64Param(c.q, "generation"));
	checkReadPreconditions(c, obj);
	sendJson(c.res, 200, objectResource(obj, c.base));
}

function getMedia(c: Context, bucket: string, name: string): void {
	const obj = c.server.store.get(bucket, name, int64Param(c.q, "generation"));
	checkReadPreconditions(c, obj);
	serveMedia(c.req, c.res, obj, false);
}

function deleteObject(c: Context, bucket: string, name: string): void {
	c.server.store.remove(bucket, name, preconditions(c.q), int64Param(c.q, "generation"));
	c.res.writeHead(204).end();
}

async function composeObject(c: Context, bucket: string, name: string): Promise<void> {
	const body = await readJson(c.req);
	const sources = composeSources(body);
	const destination = (body.destination ?? {}) as Record<string, unknown>;
	const obj = await compose(
		c.server.store,
		bucket,
		name,
		sources,
		resourceFrom(destination),
		preconditions(c.q),
	);
	sendJson(c.res, 200, objectResource(obj, c.base));
}

async function copyRequest(
	c: Context,
	srcBucket: string,
	srcName: string,
	target: { dstBucket: string; dstName: string },
): Promise<CopyRequest> {
	const body = await readJson(c.req);
	const resource = resourceFrom(body);
	const sourceGeneration = int64Param(c.q, "sourceGeneration");
	return {
		srcBucket,
		srcName,
		...target,
		...(sourceGeneration !== undefined && { sourceGeneration }),
		sourcePre: preconditions(c.q, "ifSource"),
		destPre: preconditions(c.q),
		...((resource.contentType !== undefined || resource.metadata !== undefined) && { resource }),
	};
}

async function copy(
	c: Context,
	bucket: string,
	name: string,
	target: { dstBucket: string; dstName: string },
): Promise<void> {
	const obj = await c.server.copier.copy(await copyRequest(c, bucket, name, target));
	sendJson(c.res, 200, objectResource(obj, c.base));
}

async function rewrite(
	c: Context,
	bucket: string,
	name: string,
	target: { dstBucket: string; dstName: string },
): Promise<void> {
	const r = await copyRequest(c, bucket, name, target);
	const rawMax = c.q.get("maxBytesRewrittenPerCall");
	const max = rawMax === null ? undefined : Number(rawMax);
	if (max !== undefined && !Number.isSafeInteger(max)) {
		throw badRequest(`Invalid value for maxBytesRewrittenPerCall: ${rawMax}`);
	}
	const reply = await c.server.copier.rewrite(r, c.q.get("rewriteToken") ?? undefined, max);
	sendJson(c.res, 200, {
		kind: "storage#rewriteResponse",
		totalBytesRewritten: String(reply.totalBytesRewritten),
		objectSize: String(reply.objectSize),
		done: reply.done,
		...(reply.rewriteToken !== undefined && { rewriteToken: reply.rewriteToken }),
		...(reply.resource && { resource: objectResource(reply.resource, c.base) }),
	});
}

async function upload(c: Context, bucket: string): Promise<void> {
	const { store, sessions } = c.server;
	store.bucketCreated(bucket); // 404 for a missing bucket before reading any content
	const pre = preconditions(c.q);
	const type = c.q.get("uploadType");
	if (type === "media") {
		const obj = await mediaUpload(store, c.req, bucket, c.q, pre);
		sendJson(c.res, 200, objectResource(obj, c.base));
		return;
	}
	if (type === "multipart") {
		const obj = await multipartUpload(store, c.req, bucket, c.q, pre);
		sendJson(c.res, 200, objectResource(obj, c.base));
		return;
	}
	if (type !== "resumable") throw badRequest(`Invalid uploadType: ${type ?? "(none)"}`);
	const body = await readJson(c.req);
	const name = c.q.get("name") ?? (typeof body.name === "string" ? body.name : undefined);
	if (!name) throw required("name");
	const rawSize = c.req.headers["x-upload-content-length"];
	const declaredSize = rawSize === undefined ? undefined : Number(rawSize);
	if (declaredSize !== undefined && !Number.isSafeInteger(declaredSize)) {
		throw badRequest(`Invalid X-Upload-Content-Length: ${rawSize}`);
	}
	const contentType = c.req.headers["x-upload-content-type"];
	const id = sessions.start(
		bucket,
		name,
		resourceFrom(body, typeof contentType === "string" ? contentType : undefined),
		pre,
		declaredHashes(body),
		declaredSize,
	);
	const location = new URL(`${c.base}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o`);
	location.searchParams.set("uploadType", "resumable");
	location.searchParams.set("name", name);
	location.searchParams.set("upload_id", id);
	c.res.writeHead(200, {
		location: location.href,
		"x-guploader-uploadid": id,
		"content-length": 0,
	});
	c.res.end();
}

function uploadId(c: Context): string {
	const id = c.q.get("upload_id");
	if (!id) throw required("upload_id");
	return id;
}

async function putChunk(c: Context): Promise<void> {
	const id = uploadId(c);
	const reply = await c.server.sessions.put(id, c.req, c.fault);
	if (reply.kind === "done") {
		sendJson(c.res, 200, objectResource(reply.object, c.base));
		return;
	}
	const headers: Record<string, string | number> = {
		"content-length": 0,
		"x-guploader-uploadid": id,
	};
	if (reply.persisted > 0) headers.range = `bytes=0-${reply.persisted - 1}`;
	c.res.writeHead(308, headers);
	c.res.end();
}

function cancelSession(c: Context): void {
	c.server.sessions.cancel(uploadId(c));
	const body = JSON.stringify({ error: { code: 499, message: "Client Closed Request" } });
	c.res.writeHead(499, {
		"content-type": "application/json",
		"content-length": Buffer.byteLength(body),
	});
	c.res.end(body);
}

/** A path-style XML API read: only with a valid V4 signature (the bucket is private). */
function signedGet(c: Context, bucket: string, name: string): void {
	if (!c.q.has("X-Goog-Signature") && !c.q.has("X-Goog-Algorithm")) {
		throw new XmlError(
			403,
			"AccessDenied",
			"Anonymous caller does not have storage.objects.get access.",
		);
	}
	verifySignedUrl(c.req, c.rawPath, c.q, c.server.signers);
	const obj = c.server.store.find(bucket, name);
	if (!obj) {
		throw new XmlError(404, "NoSuchKey", "The specified key does not exist.", {
			Details: `No such object: ${bucket}/${name}`,
		});
	}
	serveMedia(c.req, c.res, obj, c.req.method === "HEAD");
}

/**
 * Test control over HTTP, for a server in another process: POST /_testserver/faults (a
 * FaultRule), DELETE /_testserver/faults, POST /_testserver/sessions/expire,
 * GET /_testserver/requests. `_` cannot start a bucket name, so these never shadow one.
 */
function controlRoute(method: string, p: string[]): Route | undefined {
	const key = `${method} ${p.join("/")}`;
	switch (key) {
		case "POST faults":
			return {
				op: "control",
				run: async (c) => {
					try {
						c.server.faults.inject((await readJson(c.req)) as unknown as FaultRule);
					} catch (err) {
						throw badRequest((err as Error).message);
					}
					c.res.writeHead(204).end();
				},
			};
		case "DELETE faults":
			return {
				op: "control",
				run: (c) => {
					c.server.faults.clear();
					c.res.writeHead(204).end();
				},
			};
		case "POST sessions/expire":
			return {
				op: "control",
				run: (c) => {
					c.server.faults.expireAllSessions();
					c.res.writeHead(204).end();
				},
			};
		case "GET requests":
			return { op: "control", run: (c) => sendJson(c.res, 200, c.server.requestLog()) };
		default:
			return undefined;
	}
}
