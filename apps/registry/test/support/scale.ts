/** Helpers of the scale-out tests: requests spread over replicas, slow bodies that hold locks. */
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import type { Replica } from "./replicas.js";

/** Requests go to the replicas in turn, starting at `first`; `log` records who served what. */
export function roundRobin(replicas: Replica[], first = 0, log?: string[]) {
	let next = first;
	return () => {
		const r = replicas[next++ % replicas.length] as Replica;
		log?.push(r.url);
		return r.url;
	};
}

export async function* trickle(data: Buffer, piece: number, pause: number): AsyncGenerator<Buffer> {
	for (let at = 0; at < data.length; at += piece) {
		yield data.subarray(at, at + piece);
		await sleep(pause);
	}
}

/** A PATCH whose body arrives slowly: it holds the upload's lock for a while. */
export async function slowPatch(base: string, location: string, data: Buffer, offset = 0) {
	const res = await request(`${base}${location}`, {
		method: "PATCH",
		headers: {
			"content-type": "application/octet-stream",
			"content-range": `${offset}-${offset + data.length - 1}`,
			"content-length": String(data.length),
		},
		body: Readable.from(trickle(data, 32 * 1024, 15)),
	});
	await res.body.dump();
	return { status: res.statusCode, range: res.headers.range as string | undefined };
}

export async function startUpload(base: string, repo: string): Promise<string> {
	const res = await request(`${base}/v2/${repo}/blobs/uploads/`, { method: "POST" });
	await res.body.dump();
	if (res.statusCode !== 202) throw new Error(`POST upload: ${res.statusCode}`);
	return res.headers.location as string;
}

export async function put(base: string, location: string, digest: string): Promise<number> {
	const res = await request(`${base}${location}?digest=${digest}`, { method: "PUT" });
	await res.body.dump();
	return res.statusCode;
}
