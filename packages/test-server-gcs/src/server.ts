import { mkdtempSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Copier } from "./copies.js";
import { GcsError, sendJsonError, sendXmlError, XmlError } from "./errors.js";
import { type FaultRule, Faults, type Operation } from "./faults.js";
import { drain } from "./http-util.js";
import { Sessions } from "./resumable.js";
import { type Context, HandledResponse, type Route, route, type ServerParts } from "./routes.js";
import { publicKeyOf, type ServiceAccountKey } from "./signed-urls.js";
import { Store } from "./store.js";

export interface GcsTestServerOptions {
	/** Default 0: any free port. */
	port?: number;
	/** Default 127.0.0.1. */
	host?: string;
	/** Where object data lives; default a new temp directory, removed by close(). */
	dir?: string;
	/** Buckets that exist from the start (more can be made with buckets.insert). */
	buckets?: string[];
	/** Lifetime of a resumable session; default 7 days, as on GCS. */
	sessionTtlMs?: number;
	/** What an expired session answers; default 410. */
	expiredSessionStatus?: 404 | 410;
	/** Cap on bytes copied per rewrite call, so large rewrites take several calls. */
	maxBytesRewrittenPerCall?: number;
	/** Accounts whose V4 signed URLs are honoured. */
	serviceAccounts?: ServiceAccountKey[];
	/** Where unknown routes and internal errors are reported; default console.error. */
	log?: (line: string) => void;
}

export interface RequestRecord {
	method: string;
	path: string;
	op: Operation;
	status: number;
	fault?: FaultRule;
}

export interface GcsTestServer {
	/** `http://127.0.0.1:<port>`: the apiEndpoint for @google-cloud/storage. */
	readonly url: string;
	readonly port: number;
	readonly faults: Faults;
	/** Every request answered, in order (bounded to the last 20,000). */
	readonly requests: readonly RequestRecord[];
	/** Requests no route matched (each was answered 501). Tests should assert this is empty. */
	readonly unknownRoutes: readonly string[];
	close(): Promise<void>;
}

const LOG_LIMIT = 20_000;

/**
 * Start a strict GCS JSON API server on loopback. See the package README for what it implements
 * and where it is stricter or simpler than GCS.
 */
export async function startGcsTestServer(
	options: GcsTestServerOptions = {},
): Promise<GcsTestServer> {
	const ownDir = options.dir === undefined;
	const dir = options.dir ?? mkdtempSync(join(tmpdir(), "gcs-test-server-"));
	const log = options.log ?? ((line: string) => console.error(line));
	const store = new Store(dir);
	for (const b of options.buckets ?? []) store.createBucket(b);
	const sessions = new Sessions(store, {
		ttlMs: options.sessionTtlMs ?? 7 * 24 * 3600 * 1000,
		expiredStatus: options.expiredSessionStatus ?? 410,
	});
	const faults = new Faults(() => sessions.expireAll());
	const signers = new Map(
		(options.serviceAccounts ?? []).map((a) => [a.client_email, publicKeyOf(a.key)] as const),
	);
	const requests: RequestRecord[] = [];
	const unknownRoutes: string[] = [];
	const parts: ServerParts = {
		store,
		sessions,
		copier: new Copier(store, options.maxBytesRewrittenPerCall),
		faults,
		signers,
		requestLog: () => requests,
	};

	const server = createServer((req, res) => {
		handle(req, res).catch((err: unknown) => {
			log(`gcs-test-server: internal error: ${(err as Error)?.stack ?? String(err)}`);
			res.destroy();
		});
	});
	// Uploads can take long; idle keep-alive sockets must outlive the clients' (no reset races).
	server.requestTimeout = 0;
	server.keepAliveTimeout = 65_000;
	server.headersTimeout = 66_000;

	async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
		const method = req.method ?? "GET";
		const url = new URL(req.url ?? "/", "http://localhost");
		const rawPath = url.pathname;
		let segs: string[];
		try {
			segs = rawPath.split("/").slice(1).map(decodeURIComponent);
		} catch {
			segs = [];
		}
		const r: Route | undefined = route(method, segs, url.searchParams);
		const record: RequestRecord = {
			method,
			path: `${rawPath}${url.search}`,
			op: r?.op ?? "unknown",
			status: 0,
		};
		res.on("finish", () => {
			record.status = res.statusCode;
			requests.push(record);
			if (requests.length > LOG_LIMIT) requests.splice(0, requests.length - LOG_LIMIT);
		});
		if (!r) {
			const line = `${method} ${req.url}`;
			unknownRoutes.push(line);
			log(`gcs-test-server: 501 for an unknown route: ${line}`);
			drain(req);
			sendJsonError(res, new GcsError(501, "notImplemented", `Not implemented: ${line}`));
			return;
		}
		const fault = faults.take(r.op);
		if (fault) record.fault = fault;
		if (fault?.reset) {
			req.socket.destroy();
			return;
		}
		if (fault?.status !== undefined) {
			drain(req);
			sendJsonError(
				res,
				new GcsError(
					fault.status,
					fault.status === 429 ? "rateLimitExceeded" : "backendError",
					`Injected fault: ${fault.status}`,
				),
			);
			return;
		}
		if (fault?.loseResponse) loseResponse(req, res);
		const ctx: Context = {
			req,
			res,
			q: url.searchParams,
			rawPath,
			segs,
			base: `http://${req.headers.host ?? "localhost"}`,
			...(fault && { fault }),
			server: parts,
		};
		try {
			await r.run(ctx);
		} catch (err) {
			if (err instanceof HandledResponse) return;
			if (res.headersSent) {
				res.destroy();
				return;
			}
			drain(req);
			if (err instanceof XmlError) sendXmlError(res, err, method === "HEAD");
			else if (err instanceof GcsError) sendJsonError(res, err);
			else if (r.xml) {
				log(`gcs-test-server: ${method} ${req.url}: ${(err as Error)?.stack ?? String(err)}`);
				sendXmlError(res, new XmlError(500, "InternalError", String(err)));
			} else if (req.socket.destroyed) {
				res.destroy();
			} else {
				log(`gcs-test-server: ${method} ${req.url}: ${(err as Error)?.stack ?? String(err)}`);
				sendJsonError(res, new GcsError(500, "backendError", String(err)));
			}
		}
	}

	await new Promise<void>((resolve, reject) => {
		server.once("error", reject);
		server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
			server.off("error", reject);
			resolve();
		});
	});
	const { port } = server.address() as AddressInfo;
	const host = options.host ?? "127.0.0.1";
	let closed = false;
	return {
		url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
		port,
		faults,
		requests,
		unknownRoutes,
		async close() {
			if (closed) return;
			closed = true;
			await new Promise<void>((resolve) => {
				server.close(() => resolve());
				server.closeAllConnections();
			});
			if (ownDir) store.destroy();
		},
	};
}

/** Do the work but never answer: the connection drops where the response would have been. */
function loseResponse(req: IncomingMessage, res: ServerResponse): void {
	const drop = () => {
		req.socket.destroy();
		return res;
	};
	res.writeHead = drop as unknown as ServerResponse["writeHead"];
	res.write = (() => true) as unknown as ServerResponse["write"];
	res.end = drop as unknown as ServerResponse["end"];
}
