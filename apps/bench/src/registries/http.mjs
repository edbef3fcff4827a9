// The client side of the OCI Distribution API, over undici keep-alive pools: the request
// sequences real clients send, parameterised by what each workload measures.
import { Pool } from "undici";

const OCTETS = "application/octet-stream";

/** A keep-alive pool of `connections` to one registry. */
export function pool(base, connections = 1) {
	return new Pool(base, {
		connections,
		pipelining: 1,
		keepAliveTimeout: 60_000,
		headersTimeout: 300_000,
		bodyTimeout: 300_000,
	});
}

async function* asyncOf(iterable) {
	yield* iterable;
}

/** One request; the response body is read whole (or counted and dropped with `discard`). */
export async function call(p, method, path, { headers = {}, body, expect, discard } = {}) {
	const res = await p.request({ method, path, headers, body: body ?? null });
	let text = "";
	let bytes = 0;
	if (discard) {
		for await (const chunk of res.body) bytes += chunk.length;
	} else {
		text = await res.body.text();
	}
	if (expect !== undefined && res.statusCode !== expect) {
		throw new Error(`${method} ${path}: expected ${expect}, got ${res.statusCode} ${text}`);
	}
	return { status: res.statusCode, headers: res.headers, text, bytes };
}

/** The path and query of a Location header (Distribution's are absolute URLs with a state token). */
function target(location, extra = {}) {
	const url = new URL(location, "http://registry.invalid");
	for (const [k, v] of Object.entries(extra)) url.searchParams.set(k, v);
	return `${url.pathname}${url.search}`;
}

export async function startUpload(p, repo) {
	const r = await call(p, "POST", `/v2/${repo}/blobs/uploads/`, {
		headers: { "content-length": "0" },
		expect: 202,
	});
	return r.headers.location;
}

/** POST, then PUT ?digest= with the whole blob as the body. */
export async function pushMonolithic(p, repo, blob) {
	const loc = await startUpload(p, repo);
	await call(p, "PUT", target(loc, { digest: blob.digest }), {
		headers: { "content-type": OCTETS, "content-length": String(blob.size) },
		body: blob.bytes ?? asyncOf(blob.chunks()),
		expect: 201,
	});
}

/** The single-request push: POST ?digest= with the body (201 where supported). */
export async function pushSinglePost(p, repo, blob) {
	await call(p, "POST", `/v2/${repo}/blobs/uploads/?digest=${blob.digest}`, {
		headers: { "content-type": OCTETS, "content-length": String(blob.size) },
		body: blob.bytes ?? asyncOf(blob.chunks()),
		expect: 201,
	});
}

/** Does the registry take a whole blob in one POST? Probed with a small one. */
export async function supportsSinglePost(p, repo, blob) {
	const r = await call(p, "POST", `/v2/${repo}/blobs/uploads/?digest=${blob.digest}`, {
		headers: { "content-type": OCTETS, "content-length": String(blob.size) },
		body: blob.bytes,
	});
	return r.status === 201;
}

/** POST, `count` PATCHes with Content-Range, then an empty PUT ?digest=. Returns commit ms. */
export async function pushChunked(p, repo, blob, count) {
	let loc = await startUpload(p, repo);
	const per = Math.ceil(blob.size / count);
	for (let start = 0; start < blob.size; start += per) {
		const end = Math.min(blob.size, start + per);
		const r = await call(p, "PATCH", target(loc), {
			headers: {
				"content-type": OCTETS,
				"content-length": String(end - start),
				"content-range": `${start}-${end - 1}`,
			},
			body: asyncOf(blob.chunks(start, end)),
			expect: 202,
		});
		loc = r.headers.location;
	}
	const t = performance.now();
	await call(p, "PUT", target(loc, { digest: blob.digest }), {
		headers: { "content-length": "0" },
		expect: 201,
	});
	return performance.now() - t;
}

/** POST, one PATCH with Transfer-Encoding: chunked (no length, as podman sends), empty PUT. */
export async function pushStreamed(p, repo, blob) {
	const loc = await startUpload(p, repo);
	const r = await call(p, "PATCH", target(loc), {
		headers: { "content-type": OCTETS },
		body: asyncOf(blob.chunks()),
		expect: 202,
	});
	await call(p, "PUT", target(r.headers.location, { digest: blob.digest }), {
		headers: { "content-length": "0" },
		expect: 201,
	});
}

/** GET the blob, counting the bytes and dropping them. */
export async function getBlob(p, repo, blob) {
	const r = await call(p, "GET", `/v2/${repo}/blobs/${blob.digest}`, {
		discard: true,
		expect: 200,
	});
	if (r.bytes !== blob.size) throw new Error(`GET returned ${r.bytes} of ${blob.size} bytes`);
}

export const MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json";

export async function putManifest(p, repo, reference, bytes) {
	await call(p, "PUT", `/v2/${repo}/manifests/${reference}`, {
		headers: { "content-type": MANIFEST_TYPE, "content-length": String(bytes.length) },
		body: bytes,
		expect: 201,
	});
}

export async function getManifest(p, repo, reference) {
	const r = await call(p, "GET", `/v2/${repo}/manifests/${reference}`, {
		headers: { accept: MANIFEST_TYPE },
		expect: 200,
	});
	return r.text;
}
