import type { Server as HttpsServer } from "node:https";
import type { Registry } from "@stowage/core";
import Fastify, {
	type FastifyBaseLogger,
	type FastifyInstance,
	type FastifyReply,
	type FastifyRequest,
	LogController,
} from "fastify";
import { type Logger, pino } from "pino";
import { type AccessGate, OPEN_GRANT } from "./auth/gate.js";
import { type AppSettings, bytesRead, type RequestContext } from "./http/context.js";
import { dispatch } from "./http/dispatch.js";
import { HttpError, toOciError } from "./http/errors.js";
import { registerHealthRoutes } from "./http/health.js";
import { instrumentHttp } from "./http/instrument.js";
import { parseOciPath, splitUrl } from "./http/oci-path.js";
import { requestId, withRequestId } from "./http/request-id.js";
import type { Metrics } from "./metrics.js";
import { guardClientCertificates, type HttpsOptions } from "./tls.js";

export interface AppOptions extends Partial<AppSettings> {
	registry: Registry;
	/** pino logger; silent when absent. */
	logger?: Logger;
	/** One JSON line per request (`log.accesslog.disabled` turns it off). */
	accessLog?: boolean;
	/** Extra headers on every response (`http.headers`). */
	headers?: Record<string, string | string[]>;
	/** Drop a connection idle this long, in ms (a stalled client must not hold resources). */
	idleTimeout?: number;
	/** How long /healthz and /readyz wait for the driver, in ms. */
	healthTimeout?: number;
	/** Prometheus metrics to record requests in; none when absent. */
	metrics?: Metrics;
	/** `auth`: who may do what under /v2; everyone everything when absent. */
	access?: AccessGate;
	/** `http.tls`: serve HTTPS. */
	https?: HttpsOptions;
}

const API_VERSION = "registry/2.0";
const contentTypes = new WeakMap<FastifyRequest, string>();

/**
 * The HTTP app: one catch-all route under /v2 whose path is parsed here (repository names hold
 * slashes), bodies left unparsed for the engine to stream, and every failure turned into an OCI
 * error by `toOciError`.
 */
export function createApp(options: AppOptions): FastifyInstance {
	const settings: AppSettings = {
		deleteEnabled: options.deleteEnabled ?? false,
		redirect: options.redirect ?? true,
		readOnly: options.readOnly ?? false,
		baseUrl: (options.baseUrl ?? "").replace(/\/+$/, ""),
		catalogMaxEntries: options.catalogMaxEntries ?? 1000,
	};
	const { registry } = options;
	const logger = options.logger ?? pino({ level: "silent" });
	const app = Fastify({
		loggerInstance: logger as FastifyBaseLogger,
		// The access log below replaces the framework's two lines per request.
		logController: new LogController({ disableRequestLogging: true }),
		genReqId: (raw) => requestId(raw),
		requestIdHeader: false,
		connectionTimeout: options.idleTimeout ?? 10 * 60_000,
		// Uploads of large blobs take as long as they take; idleness is what gets cut.
		requestTimeout: 0,
		keepAliveTimeout: 65_000,
		forceCloseConnections: "idle",
		return503OnClosing: true,
		exposeHeadRoutes: false,
		routerOptions: { maxParamLength: 8192 },
		...(options.https ? { https: options.https } : {}),
		// A malformed URL escape is the client's mistake: answer it like every other.
		frameworkErrors: (err, request, reply) => sendError(request, reply, err),
	});

	if (options.https) guardClientCertificates(app.server as unknown as HttpsServer, options.https);

	// Bodies are never parsed by the framework: handlers stream `request.raw` into the engine. The
	// Content-Type is set aside so a malformed one cannot make the framework answer for us.
	app.removeAllContentTypeParsers();
	app.addContentTypeParser("*", (_request, _payload, done) => done(null, undefined));

	app.addHook("onRequest", async (request, reply) => {
		const contentType = request.headers["content-type"];
		if (contentType !== undefined) {
			contentTypes.set(request, contentType);
			delete request.headers["content-type"];
		}
		reply.header("Docker-Distribution-API-Version", API_VERSION);
		reply.header("X-Request-Id", request.id);
		for (const [name, value] of Object.entries(options.headers ?? {})) reply.header(name, value);
		if (options.accessLog !== false) logWhenDone(request, reply);
	});
	if (options.metrics) instrumentHttp(app, options.metrics);

	const handle = async (request: FastifyRequest, reply: FastifyReply) => {
		const { path, query } = splitUrl(request.url);
		const controller = new AbortController();
		const onClose = () => {
			if (!reply.raw.writableFinished) controller.abort(new Error("client closed the request"));
		};
		reply.raw.once("close", onClose);
		const ctx: Omit<RequestContext, "grant"> = {
			registry,
			settings,
			request,
			reply,
			query,
			signal: controller.signal,
			contentType: contentTypes.get(request),
		};
		try {
			const route = parseOciPath(path);
			if (!route) throw new HttpError(404, "UNSUPPORTED", `no such endpoint: ${path}`);
			// Before anything touches storage: a refusal must not depend on what is stored.
			const grant = options.access ? await options.access.check(request, route, query) : OPEN_GRANT;
			await dispatch({ ...ctx, grant }, route);
		} catch (err) {
			sendError(request, reply, err);
		}
		return reply;
	};
	const methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];
	app.route({ method: methods, url: "/v2", handler: handle });
	app.route({ method: methods, url: "/v2/*", handler: handle });

	registerHealthRoutes(app, {
		registry,
		timeout: options.healthTimeout ?? 5000,
		readOnly: settings.readOnly,
	});

	app.setNotFoundHandler((request, reply) => {
		sendError(
			request,
			reply,
			new HttpError(404, "UNSUPPORTED", `no such endpoint: ${request.url}`),
		);
	});
	app.setErrorHandler((err, request, reply) => {
		sendError(request, reply, err);
	});
	return app;
}

function sendError(request: FastifyRequest, reply: FastifyReply, err: unknown): void {
	const r = toOciError(err, request.id);
	if (r.serverFault) request.log.error({ err }, "request failed");
	else
		request.log.debug(
			{ code: r.body.errors[0]?.code, message: (err as Error)?.message },
			"client error",
		);
	if (r.clientGone || reply.raw.headersSent) {
		// Nobody to answer, or the answer already started: end the connection.
		reply.raw.statusCode = r.clientGone ? 499 : reply.raw.statusCode;
		reply.hijack();
		reply.raw.destroy();
		return;
	}
	// A body we did not read must not be parsed as the next request on this connection.
	if (!request.raw.complete) reply.header("Connection", "close");
	reply
		.code(r.status)
		.headers(r.headers)
		.header("Content-Type", "application/json")
		.removeHeader("Content-Length")
		.send(JSON.stringify(withRequestId(r.body, request.id)));
}

/** One access-log line per request, written when the response ends or the client goes away. */
function logWhenDone(request: FastifyRequest, reply: FastifyReply): void {
	const socket = request.raw.socket;
	const writtenAtStart = socket.bytesWritten;
	const started = process.hrtime.bigint();
	reply.raw.once("close", () => {
		const finished = reply.raw.writableFinished;
		request.log.info(
			{
				method: request.method,
				path: splitUrl(request.url).path,
				status: finished ? reply.raw.statusCode : 499,
				bytesIn: bytesRead(request),
				bytesOut: socket.bytesWritten - writtenAtStart,
				durationMs: Number(process.hrtime.bigint() - started) / 1e6,
				remote: request.ip,
			},
			finished ? "request completed" : "request aborted",
		);
	});
}
