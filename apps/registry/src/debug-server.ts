import { createServer, type Server } from "node:http";
import type { Metrics } from "./metrics.js";

export interface DebugServer {
	/** The bound address, e.g. `127.0.0.1:5001`. */
	readonly address: string;
	close(): Promise<void>;
}

/**
 * Distribution's debug server (`http.debug.addr`): a listener apart from the API, so metrics can
 * stay on an internal interface while the registry faces the world. It serves the Prometheus
 * exposition at `path`, and nothing else.
 */
export async function startDebugServer(options: {
	host: string;
	port: number;
	path: string;
	metrics: Metrics;
}): Promise<DebugServer> {
	const { metrics } = options;
	const server: Server = createServer((request, response) => {
		const path = (request.url ?? "/").split("?")[0];
		if (path !== options.path || (request.method !== "GET" && request.method !== "HEAD")) {
			response.writeHead(404, { "Content-Type": "text/plain" }).end("not found\n");
			return;
		}
		metrics.registry.metrics().then(
			(text) => {
				response.writeHead(200, { "Content-Type": metrics.registry.contentType });
				response.end(request.method === "HEAD" ? undefined : text);
			},
			(err: unknown) => {
				response.writeHead(500, { "Content-Type": "text/plain" }).end(`${String(err)}\n`);
			},
		);
	});
	await new Promise<void>((resolve, reject) => {
		server.once("error", reject);
		server.listen(options.port, options.host, () => {
			server.off("error", reject);
			resolve();
		});
	});
	const bound = server.address();
	const address =
		typeof bound === "object" && bound
			? `${bound.family === "IPv6" ? `[${bound.address}]` : bound.address}:${bound.port}`
			: String(bound);
	return {
		address,
		close: () =>
			new Promise<void>((resolve) => {
				server.close(() => resolve());
				server.closeAllConnections();
			}),
	};
}
