/**
 * HTTP/1.1 by hand over a socket: requests no well-behaved client would send (lying
 * Content-Length, truncated bodies, raw bytes in the path, headers that never end).
 */
import { connect } from "node:net";

export interface RawResult {
	/** The status of the response, if one arrived. */
	status?: number;
	/** Everything the server sent. */
	response: Buffer;
	/** The server closed the connection (rather than the timeout ending the wait). */
	closedByServer: boolean;
}

export interface RawRequest {
	method: string;
	/** Raw request-target bytes, sent as they are. */
	target: string | Buffer;
	headers?: [string, string][];
	body?: Buffer;
	/** Half-close after sending (a client that gives up mid-body). Default false. */
	end?: boolean;
}

export function encodeRequest(req: RawRequest): Buffer {
	const head = [
		Buffer.from(`${req.method} `),
		Buffer.isBuffer(req.target) ? req.target : Buffer.from(req.target, "latin1"),
		Buffer.from(" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"),
		...(req.headers ?? []).map(([k, v]) => Buffer.from(`${k}: ${v}\r\n`, "latin1")),
		Buffer.from("\r\n"),
	];
	return Buffer.concat([...head, req.body ?? Buffer.alloc(0)]);
}

/** Send bytes and collect the answer until the server closes or `timeout` ms pass. */
export function rawExchange(
	port: number,
	bytes: Buffer,
	options: { end?: boolean; timeout?: number } = {},
): Promise<RawResult> {
	return new Promise((resolve) => {
		const socket = connect(port, "127.0.0.1");
		const chunks: Buffer[] = [];
		let closedByServer = false;
		const finish = () => {
			clearTimeout(timer);
			const response = Buffer.concat(chunks);
			const m = /^HTTP\/1\.[01] (\d{3})/.exec(response.subarray(0, 20).toString("latin1"));
			resolve({ ...(m ? { status: Number(m[1]) } : {}), response, closedByServer });
		};
		const timer = setTimeout(() => {
			socket.destroy();
		}, options.timeout ?? 5000);
		socket.on("data", (c) => chunks.push(c));
		socket.on("end", () => {
			closedByServer = true;
		});
		socket.on("error", () => {
			closedByServer = true;
		});
		socket.on("close", finish);
		socket.write(bytes, () => {
			if (options.end) socket.end();
		});
	});
}

export function rawRequest(port: number, req: RawRequest, timeout?: number): Promise<RawResult> {
	return rawExchange(port, encodeRequest(req), { end: req.end ?? false, timeout });
}
