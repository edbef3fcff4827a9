import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type Authenticated, authenticate, parseRawQuery } from "./auth.js";
import { sha256Hex, verifyBodyIntegrity } from "./checksums.js";
import { decodeAwsChunked } from "./chunked.js";
import type { Reply, RequestContext, ServerLimits } from "./context.js";
import { errors, S3Error } from "./errors.js";
import { Faults, Stats } from "./faults.js";
import { routeRequest } from "./router.js";
import { Bucket, Store } from "./store.js";
import { escapeXml } from "./xml.js";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

export const DEFAULT_LIMITS: ServerLimits = {
	minPartSize: 5 * MiB,
	maxPartNumber: 10_000,
	maxListParts: 1000,
	maxListUploads: 1000,
	maxListKeys: 1000,
	maxCopySize: 5 * GiB,
	maxUploadSize: 5 * GiB,
};

export interface S3TestServerOptions {
	/** Default 0: a free port. */
	port?: number;
	/** Default 127.0.0.1 (loopback only). */
	host?: string;
	accessKeyId: string;
	secretAccessKey: string;
	/** The region signatures must be scoped to; default us-east-1. */
	region?: string;
	/** Buckets that exist from the start. */
	buckets?: string[];
	/** S3's limits; lower them to exercise pagination and the part-size rule cheaply. */
	limits?: Partial<ServerLimits>;
	/** Allowed clock skew for signed requests; default 15 minutes, as AWS. */
	maxClockSkewMs?: number;
	/** Called with one line per request (method, path, status, error code). */
	log?: (line: string) => void;
}

export interface S3TestServer {
	/** `http://host:port`, for `endpoint` with `forcePathStyle: true`. */
	readonly url: string;
	readonly port: number;
	readonly region: string;
	/** Make the next requests of an operation fail (see FaultSpec). */
	readonly faults: Faults;
	/** Request and byte counters. */
	readonly stats: Stats;
	/** The limits in force; tests may change them between requests. */
	readonly limits: ServerLimits;
	/** The in-memory state, for assertions (e.g. no multipart upload left behind). */
	readonly store: Store;
	close(): Promise<void>;
}

/** Start the strict S3 server on loopback. */
export async function startS3TestServer(options: S3TestServerOptions): Promise<S3TestServer> {
	const region = options.region ?? "us-east-1";
	const limits: ServerLimits = { ...DEFAULT_LIMITS, ...options.limits };
	const store = new Store();
	for (const name of options.buckets ?? []) store.buckets.set(name, new Bucket(name));
	const faults = new Faults();
	const stats = new Stats();
	const credentials = {
		accessKeyId: options.accessKeyId,
		secretAccessKey: options.secretAccessKey,
		region,
		maxSkewMs: options.maxClockSkewMs ?? 15 * 60_000,
	};

	const server = createServer((req, res) => {
		handle(req, res).catch((err: unknown) => {
			// A bug in the server itself: answer 500 rather than hang the client.
			options.log?.(`internal error: ${String((err as Error)?.stack ?? err)}`);
			if (!res.headersSent) res.writeHead(500).end();
			else res.destroy();
		});
	});
	// Longer than the SDK's idle sockets live, so a reused connection is never closed under it.
	server.keepAliveTimeout = 65_000;
	server.headersTimeout = 66_000;

	async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
		const requestId = randomBytes(8).toString("hex").toUpperCase();
		res.setHeader("x-amz-request-id", requestId);
		res.setHeader("x-amz-id-2", randomBytes(24).toString("base64"));
		res.setHeader("server", "StowageS3Test");
		const url = req.url ?? "/";
		const q = url.indexOf("?");
		const rawPath = q < 0 ? url : url.slice(0, q);
		const rawQuery = q < 0 ? "" : url.slice(q + 1);
		const method = req.method ?? "GET";
		let operation = "Unknown";
		const resource = rawPath;
		let bucketName: string | undefined;
		let key: string | undefined;
		let query = new Map<string, string>();
		let route: ReturnType<typeof routeRequest> | undefined;
		let routeError: unknown;
		try {
			({ bucketName, key } = splitPath(rawPath));
			query = new Map(parseRawQuery(rawQuery));
			route = routeRequest(method, bucketName, key, query, req.headers, region);
			operation = route.operation;
			stats.count(operation);
			stats.enter(operation);
		} catch (err) {
			routeError = err;
		}
		try {
			// Read while counted as in flight, so peakConcurrency covers the upload of the body.
			const raw = await readBody(req);
			if (!route) throw routeError;
			const auth = authenticate({ method, rawPath, rawQuery, headers: req.headers }, credentials);
			const body = decodePayload(raw, req, auth, route.hasBody);
			const fault = faults.take(operation, key);
			if (fault?.kind === "delay") await new Promise((r) => setTimeout(r, fault.delayMs));
			if (fault?.kind === "error") throw new S3Error(fault.code, fault.status, fault.message);
			if (fault?.kind === "reset") {
				options.log?.(`${method} ${url} -> reset (injected)`);
				req.socket.destroy();
				return;
			}
			const ctx: RequestContext = {
				method,
				operation,
				bucketName,
				key,
				query,
				headers: req.headers,
				body,
				store,
				limits,
				stats,
				now: new Date(),
			};
			const reply = route.handler(ctx);
			if (fault?.kind === "reset-after") {
				options.log?.(`${method} ${url} -> applied, then reset (injected)`);
				req.socket.destroy();
				return;
			}
			options.log?.(`${method} ${url} -> ${reply.status} ${operation}`);
			send(res, method, reply, fault?.kind === "truncate");
		} catch (err) {
			if (!(err instanceof S3Error)) throw err;
			options.log?.(`${method} ${url} -> ${err.status} ${err.code} ${operation}: ${err.message}`);
			send(res, method, errorReply(err, resource, requestId));
		} finally {
			if (route) stats.leave(operation);
		}
	}

	await new Promise<void>((resolve, reject) => {
		server.once("error", reject);
		server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
	});
	const address = server.address() as AddressInfo;
	const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
	return {
		url: `http://${host}:${address.port}`,
		port: address.port,
		region,
		faults,
		stats,
		limits,
		store,
		close: () =>
			new Promise<void>((resolve, reject) => {
				server.close((err) => (err ? reject(err) : resolve()));
				server.closeAllConnections();
			}),
	};
}

function readBody(req: IncomingMessage): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		req.on("data", (chunk: Buffer) => chunks.push(chunk));
		req.on("end", () => resolve(Buffer.concat(chunks)));
		req.on("error", reject);
	});
}

/** `/bucket/key...`: the bucket is the first segment; the key is the rest, decoded. */
function splitPath(rawPath: string): { bucketName: string | undefined; key: string | undefined } {
	const decode = (s: string) => {
		try {
			return decodeURIComponent(s);
		} catch {
			throw new S3Error("InvalidURI", 400, "Couldn't parse the specified URI.");
		}
	};
	const path = rawPath.startsWith("/") ? rawPath.slice(1) : rawPath;
	if (path === "") return { bucketName: undefined, key: undefined };
	const slash = path.indexOf("/");
	if (slash < 0) return { bucketName: decode(path), key: undefined };
	const key = path.slice(slash + 1);
	return { bucketName: decode(path.slice(0, slash)), key: key === "" ? undefined : decode(key) };
}

/** The object bytes of a request: the signed hash checked, aws-chunked framing decoded. */
function decodePayload(
	raw: Buffer,
	req: IncomingMessage,
	auth: Authenticated,
	hasBody: boolean,
): Buffer {
	const encoding = (req.headers["content-encoding"] ?? "").split(",").map((s) => s.trim());
	let body = raw;
	if (auth.payloadHash.startsWith("STREAMING-")) {
		body = decodeAwsChunked(raw, req.headers, auth);
	} else {
		if (encoding.includes("aws-chunked")) {
			throw errors.invalidRequest(
				"Content-Encoding aws-chunked requires a STREAMING-* x-amz-content-sha256",
			);
		}
		if (/^[0-9a-f]{64}$/.test(auth.payloadHash)) {
			const actual = sha256Hex(raw);
			if (actual !== auth.payloadHash) throw errors.contentSha256Mismatch(auth.payloadHash, actual);
		}
		if (hasBody && req.headers["content-length"] === undefined) throw errors.missingContentLength();
	}
	verifyBodyIntegrity(req.headers, body);
	return body;
}

function errorReply(err: S3Error, resource: string, requestId: string): Reply {
	const details = Object.entries(err.details)
		.map(([k, v]) => `<${k}>${escapeXml(String(v))}</${k}>`)
		.join("");
	return {
		status: err.status,
		headers: { "content-type": "application/xml" },
		body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${escapeXml(err.code)}</Code><Message>${escapeXml(err.message)}</Message>${details}<Resource>${escapeXml(resource)}</Resource><RequestId>${requestId}</RequestId></Error>`,
	};
}

function send(res: ServerResponse, method: string, reply: Reply, truncate = false): void {
	for (const [name, value] of Object.entries(reply.headers ?? {})) {
		if (value !== undefined) res.setHeader(name, value);
	}
	const body =
		reply.body === undefined
			? undefined
			: Buffer.isBuffer(reply.body)
				? reply.body
				: Buffer.from(reply.body);
	if (!res.hasHeader("content-length")) res.setHeader("content-length", body?.length ?? 0);
	res.statusCode = reply.status;
	if (method === "HEAD" || body === undefined || reply.status === 304) {
		res.end();
		return;
	}
	if (truncate && body.length > 1) {
		res.write(body.subarray(0, body.length >> 1), () => res.destroy());
		return;
	}
	res.end(body);
}
