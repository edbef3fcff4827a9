import type { ServerResponse } from "node:http";
import type { FillableReadable } from "@stowage/core";
import type { FastifyReply } from "fastify";

/** Bytes per buffer: two per response in flight, so 1 MiB however large the blob. */
const PIECE = 512 * 1024;
/** Idle buffers kept for the next responses; more are left to the collector. */
const KEEP_IDLE = 32;
const idle: Buffer[] = [];

/**
 * Send `length` bytes of `source` as the body, the reply's status and headers as the head. Two
 * buffers take turns: one is filled while the socket writes the other, and a buffer is refilled
 * only once the socket has taken all of it (its write callback), so no chunk is allocated per
 * read and memory stays bounded by a slow client. A read that fails or ends short destroys the
 * connection: the head has promised `length` bytes.
 */
export async function sendFilled(
	reply: FastifyReply,
	source: FillableReadable,
	length: number,
): Promise<void> {
	// Failures arrive through fill(); an abort's 'error' event must not go unheard and crash.
	source.on("error", () => undefined);
	reply.hijack();
	const res = reply.raw;
	for (const [name, value] of Object.entries(reply.getHeaders())) {
		if (value !== undefined) res.setHeader(name, value);
	}
	res.writeHead(reply.statusCode);
	const buffers = [
		idle.pop() ?? Buffer.allocUnsafeSlow(PIECE),
		idle.pop() ?? Buffer.allocUnsafeSlow(PIECE),
	];
	const writes: Array<Promise<boolean>> = [Promise.resolve(true), Promise.resolve(true)];
	let left = length;
	try {
		for (let turn = 0; left > 0; turn ^= 1) {
			if (!(await writes[turn])) return; // the client went away
			const target = buffers[turn] as Buffer;
			const n = await source.fill(left < target.length ? target.subarray(0, left) : target);
			if (n === 0) throw new Error(`the blob ended ${left} bytes short of its length`);
			left -= n;
			writes[turn] = written(res, target.subarray(0, n));
		}
		res.end();
	} catch (err) {
		if (!res.destroyed) reply.log.error({ err }, "blob read failed mid-response");
		res.destroy();
	} finally {
		source.destroy();
		// A buffer goes back to the pool only once the socket is done with it.
		for (const [turn, write] of writes.entries()) {
			void write.then((done) => {
				if (done && idle.length < KEEP_IDLE) idle.push(buffers[turn] as Buffer);
			});
		}
	}
}

/** Resolves true once the socket has taken `chunk`, false if the response closed first. */
function written(res: ServerResponse, chunk: Buffer): Promise<boolean> {
	return new Promise((resolve) => {
		const onClose = () => resolve(false);
		res.once("close", onClose);
		res.write(chunk, (err) => {
			res.off("close", onClose);
			resolve(!err);
		});
	});
}
