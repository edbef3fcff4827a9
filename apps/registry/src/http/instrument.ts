import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Metrics, UploadEvent } from "../metrics.js";
import { bytesRead } from "./context.js";
import { parseOciPath, splitUrl } from "./oci-path.js";

/** Paths outside /v2 that get a route label of their own. */
const OTHER_ROUTES: Record<string, string> = { "/healthz": "healthz", "/readyz": "readyz" };

/** The `route` label: an OCI route kind, never a path (paths hold names and digests). */
export function routeLabel(url: string): string {
	const { path } = splitUrl(url);
	return parseOciPath(path)?.kind ?? OTHER_ROUTES[path] ?? "other";
}

/**
 * Count every request when its response ends (or the client goes away: status 499): count,
 * latency, bytes in and out, and the upload lifecycle events its route and status imply.
 */
export function instrumentHttp(app: FastifyInstance, metrics: Metrics): void {
	app.addHook("onRequest", async (request, reply) => {
		const socket = request.raw.socket;
		const writtenAtStart = socket.bytesWritten;
		const started = process.hrtime.bigint();
		reply.raw.once("close", () => {
			const route = routeLabel(request.url);
			const status = String(reply.raw.writableFinished ? reply.raw.statusCode : 499);
			const labels = { method: request.method, route, status };
			metrics.requests.inc(labels);
			metrics.requestDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
			metrics.bytesIn.inc({ route }, bytesRead(request));
			metrics.bytesOut.inc({ route }, Math.max(0, socket.bytesWritten - writtenAtStart));
			const event = uploadEvent(request, route, Number(status));
			if (event) metrics.upload(event);
		});
	});
}

function uploadEvent(
	request: FastifyRequest,
	route: string,
	status: number,
): UploadEvent | undefined {
	const { method } = request;
	if (route === "uploads" && method === "POST") {
		if (status === 202) return "started";
		if (status === 201) return splitUrl(request.url).query.has("mount") ? "mounted" : "committed";
	}
	if (route === "upload" && method === "PUT" && status === 201) return "committed";
	if (route === "upload" && method === "DELETE" && status === 204) return "cancelled";
	return undefined;
}
