import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { Registry, type StorageDriver } from "@stowage/core";
import { createMemoryDriver } from "@stowage/driver-memory";
import type { FastifyInstance } from "fastify";
import { request } from "undici";
import { type AppOptions, createApp } from "../src/server.js";

export interface TestServer {
	url: string;
	app: FastifyInstance;
	registry: Registry;
	driver: StorageDriver;
	close(): Promise<void>;
}

/** A listening server on 127.0.0.1 with a random port, over the memory driver by default. */
export async function startServer(
	options: Partial<AppOptions> & { driver?: StorageDriver } = {},
): Promise<TestServer> {
	const driver = options.driver ?? createMemoryDriver();
	const registry = options.registry ?? new Registry({ driver });
	const app = createApp({ ...options, registry });
	await app.listen({ host: "127.0.0.1", port: 0 });
	const address = app.server.address();
	if (typeof address !== "object" || !address) throw new Error("no address");
	return {
		url: `http://127.0.0.1:${address.port}`,
		app,
		registry,
		driver,
		close: () => app.close(),
	};
}

export interface Response {
	status: number;
	headers: Record<string, string>;
	body: Buffer;
	text: string;
	json: () => any;
}

export async function http(
	url: string,
	options: {
		method?: string;
		headers?: Record<string, string>;
		body?: string | Buffer | Uint8Array | AsyncIterable<Uint8Array> | null;
	} = {},
): Promise<Response> {
	const res = await request(url, {
		method: (options.method ?? "GET") as "GET",
		headers: options.headers,
		body:
			options.body && typeof options.body === "object" && Symbol.asyncIterator in options.body
				? Readable.from(options.body)
				: ((options.body as string | Uint8Array | null | undefined) ?? null),
	});
	const body = Buffer.from(await res.body.arrayBuffer());
	const headers: Record<string, string> = {};
	for (const [k, v] of Object.entries(res.headers)) {
		headers[k] = Array.isArray(v) ? v.join(", ") : String(v);
	}
	const text = body.toString("utf8");
	return { status: res.statusCode, headers, body, text, json: () => JSON.parse(text) };
}

export function sha256(content: string | Uint8Array): string {
	return `sha256:${createHash("sha256").update(content).digest("hex")}`;
}

/** The error codes of an OCI error response. */
export function codes(res: Response): string[] {
	return (res.json().errors as { code: string }[]).map((e) => e.code);
}

/** Push a blob in one request; returns its digest. */
export async function pushBlob(base: string, repo: string, content: string | Buffer) {
	const digest = sha256(content);
	const res = await http(`${base}/v2/${repo}/blobs/uploads/?digest=${digest}`, {
		method: "POST",
		headers: { "content-type": "application/octet-stream" },
		body: content,
	});
	if (res.status !== 201) throw new Error(`push blob: ${res.status} ${res.text}`);
	return { digest, size: Buffer.byteLength(content) };
}

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
export const DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";

/** An image in `repo`: its config and layers pushed, the manifest returned (not pushed). */
export async function buildImage(
	base: string,
	repo: string,
	options: {
		layers?: string[];
		mediaType?: string;
		subject?: { digest: string; size: number; mediaType: string };
		artifactType?: string;
		annotations?: Record<string, string>;
		configMediaType?: string;
	} = {},
) {
	const docker = options.mediaType === DOCKER_MANIFEST;
	const config = await pushBlob(
		base,
		repo,
		JSON.stringify({ architecture: "amd64", os: "linux", layers: options.layers }),
	);
	const layers = [];
	for (const content of options.layers ?? ["layer one", "layer two"]) {
		layers.push(await pushBlob(base, repo, content));
	}
	const manifest = {
		schemaVersion: 2,
		mediaType: options.mediaType ?? OCI_MANIFEST,
		...(options.artifactType ? { artifactType: options.artifactType } : {}),
		config: {
			mediaType:
				options.configMediaType ??
				(docker
					? "application/vnd.docker.container.image.v1+json"
					: "application/vnd.oci.image.config.v1+json"),
			...config,
		},
		layers: layers.map((l) => ({
			mediaType: docker
				? "application/vnd.docker.image.rootfs.diff.tar.gzip"
				: "application/vnd.oci.image.layer.v1.tar+gzip",
			...l,
		})),
		...(options.subject ? { subject: options.subject } : {}),
		...(options.annotations ? { annotations: options.annotations } : {}),
	};
	const bytes = Buffer.from(JSON.stringify(manifest));
	return { manifest, bytes, digest: sha256(bytes), size: bytes.length };
}

export async function putManifest(
	base: string,
	repo: string,
	reference: string,
	bytes: Buffer | string,
	contentType = OCI_MANIFEST,
): Promise<Response> {
	return http(`${base}/v2/${repo}/manifests/${reference}`, {
		method: "PUT",
		headers: { "content-type": contentType },
		body: bytes,
	});
}
