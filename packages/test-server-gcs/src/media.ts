import { createReadStream, openSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { parseRange } from "./http-util.js";
import { etag } from "./resource.js";
import type { StoredObject } from "./store.js";

/**
 * Serve an object's bytes (JSON API `alt=media`, the download endpoint and signed XML URLs):
 * a single Range gives 206 or 416, headers carry GCS's x-goog-* fields. The file is opened
 * before anything awaits, so a concurrent replace or delete cannot cut the download short.
 */
export function serveMedia(
	req: IncomingMessage,
	res: ServerResponse,
	obj: StoredObject,
	head: boolean,
): void {
	const headers: Record<string, string | number> = {
		"content-type": obj.contentType,
		"accept-ranges": "bytes",
		etag: `"${etag(obj)}"`,
		"last-modified": obj.updated.toUTCString(),
		"x-goog-generation": obj.generation,
		"x-goog-metageneration": String(obj.metageneration),
		"x-goog-stored-content-length": obj.size,
		"x-goog-stored-content-encoding": "identity",
		"x-goog-storage-class": "STANDARD",
		"x-goog-hash": [`crc32c=${obj.crc32c}`, ...(obj.md5Hash ? [`md5=${obj.md5Hash}`] : [])].join(
			",",
		),
	};
	if (obj.componentCount !== undefined) headers["x-goog-component-count"] = obj.componentCount;
	const range = parseRange(req.headers.range, obj.size);
	if (range === "unsatisfiable") {
		const body = JSON.stringify({
			error: {
				code: 416,
				message: "The requested range cannot be satisfied.",
				errors: [
					{
						message: "Request range not satisfiable",
						domain: "global",
						reason: "requestedRangeNotSatisfiable",
					},
				],
			},
		});
		res.writeHead(416, {
			"content-type": "application/json; charset=UTF-8",
			"content-range": `bytes */${obj.size}`,
			"content-length": Buffer.byteLength(body),
		});
		res.end(head ? undefined : body);
		return;
	}
	const start = range?.start ?? 0;
	const end = range?.end ?? obj.size - 1;
	const length = end - start + 1;
	headers["content-length"] = length;
	if (range) headers["content-range"] = `bytes ${start}-${end}/${obj.size}`;
	if (head || length <= 0) {
		res.writeHead(range ? 206 : 200, headers);
		res.end();
		return;
	}
	const fd = openSync(obj.file, "r");
	res.writeHead(range ? 206 : 200, headers);
	const stream = createReadStream("", {
		fd,
		start,
		end,
		autoClose: true,
		highWaterMark: 256 * 1024,
	});
	stream.on("error", () => res.destroy());
	res.on("close", () => stream.destroy());
	stream.pipe(res);
}
