/**
 * A registry client for the crash, scale-out and fault tests: chunked, resumable blob pushes in
 * the OCI protocol, whose requests can go to any replica, and which recover from dead processes,
 * 503s and conflicts the way real clients do: ask the upload's status and resume from its Range.
 */
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";

export type Phase = "start" | "patch" | "commit" | "status" | "manifest" | "check";

export interface ClientStats {
	requests: number;
	/** Transient failures recovered from (network errors, 503, 409). */
	retries: number;
	/** Uploads continued from the offset the registry reported after a failure. */
	resumes: number;
	/** Uploads started over because the registry no longer knew them. */
	restarts: number;
	bytesSent: number;
}

export const newStats = (): ClientStats => ({
	requests: 0,
	retries: 0,
	resumes: 0,
	restarts: 0,
	bytesSent: 0,
});

export interface ClientOptions {
	/** Base URL of the next request: one registry, or the next replica in turn. */
	base: () => string;
	/** Called around every request, so a killer can aim at a phase. */
	onPhase?: (phase: Phase, active: boolean) => void;
	/** Transient failures tolerated per operation. Default 0: the first one throws. */
	retries?: number;
	/** Awaited after a transient failure, before retrying (e.g. until the registry is back). */
	recover?: () => Promise<void>;
	stats?: ClientStats;
	/** Body pieces of this size, each a turn of the event loop: requests that last a while. */
	trickle?: number;
}

export interface Res {
	status: number;
	headers: Record<string, string>;
	body: Buffer;
}

/** A response the protocol does not allow at this point: the test fails with it. */
export class ProtocolError extends Error {
	constructor(
		what: string,
		readonly res: Res,
	) {
		super(`${what}: ${res.status} ${res.body.toString("utf8").slice(0, 300)}`);
	}
}

/** A failure worth retrying: the registry was away, overloaded, or the upload busy. */
class Transient extends Error {}

export function sha256(data: Uint8Array): string {
	return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/** `Range: 0-<last>` → the next offset. `0-0` is ambiguous (empty or one byte); 0 is assumed. */
export function rangeEnd(header: string | undefined): number {
	const m = /^(?:bytes=)?0-(\d+)$/.exec(header ?? "");
	if (!m) throw new Error(`bad Range header ${JSON.stringify(header)}`);
	const last = Number(m[1]);
	return last === 0 ? 0 : last + 1;
}

export interface BlobPlan {
	/** PATCH sizes, repeated until the data is sent. Default one PATCH with everything. */
	chunks?: number[];
	/** Send the last chunk (this many bytes) with the PUT instead of a PATCH. */
	lastInPut?: number;
	/** One `POST ?digest=` with the whole blob. */
	monolithic?: boolean;
}

export class OciClient {
	readonly stats: ClientStats;

	constructor(private readonly options: ClientOptions) {
		this.stats = options.stats ?? newStats();
	}

	/** One request to the next base URL. Network errors reject. */
	async send(
		method: string,
		path: string,
		init: { headers?: Record<string, string>; body?: Uint8Array; phase?: Phase } = {},
	): Promise<Res> {
		const phase = init.phase ?? "check";
		this.options.onPhase?.(phase, true);
		this.stats.requests++;
		try {
			const res = await request(`${this.options.base()}${path}`, {
				method: method as "GET",
				headers: init.headers,
				body: init.body ? this.bodyOf(init.body) : null,
				headersTimeout: 30_000,
				bodyTimeout: 30_000,
			});
			const body = Buffer.from(await res.body.arrayBuffer());
			const headers: Record<string, string> = {};
			for (const [k, v] of Object.entries(res.headers)) {
				headers[k] = Array.isArray(v) ? v.join(", ") : String(v);
			}
			if (init.body) this.stats.bytesSent += init.body.length;
			return { status: res.statusCode, headers, body };
		} finally {
			this.options.onPhase?.(phase, false);
		}
	}

	/** Push a blob; resolves with its digest once a 201 acknowledged it. */
	async pushBlob(repo: string, data: Uint8Array, plan: BlobPlan = {}): Promise<string> {
		const digest = sha256(data);
		if (plan.monolithic) {
			await this.retrying(async () => {
				const res = await this.send("POST", `/v2/${repo}/blobs/uploads/?digest=${digest}`, {
					headers: { "content-type": "application/octet-stream" },
					body: data,
					phase: "commit",
				});
				this.expect(res, [201], "monolithic push");
			});
			return digest;
		}
		let location: string | undefined;
		let offset = 0;
		let known = true;
		let chunkIndex = 0;
		const tail = Math.min(plan.lastInPut ?? 0, data.length);
		await this.retrying(
			async () => {
				if (!location) {
					const res = await this.send("POST", `/v2/${repo}/blobs/uploads/`, { phase: "start" });
					this.expect(res, [202], "start upload");
					location = pathOf(res.headers.location);
					offset = 0;
					known = true;
				}
				if (!known) {
					// After a failure, only the registry knows where the upload stands.
					const res = await this.send("GET", location, { phase: "status" });
					if (res.status === 404) {
						if (await this.blobExists(repo, digest)) return; // committed, reply lost
						this.stats.restarts++;
						location = undefined;
						throw new Transient("upload gone: start over");
					}
					this.expect(res, [204], "upload status");
					offset = rangeEnd(res.headers.range);
					known = true;
					this.stats.resumes++;
				}
				while (offset < data.length - tail) {
					const size = plan.chunks?.[chunkIndex++ % plan.chunks.length] ?? data.length;
					const end = Math.min(offset + size, data.length - tail);
					known = false;
					const sent = offset;
					const res = await this.send("PATCH", location, {
						headers: {
							"content-type": "application/octet-stream",
							"content-range": `${offset}-${end - 1}`,
						},
						body: data.subarray(offset, end),
						phase: "patch",
					});
					if (res.status === 416) {
						offset = rangeEnd(res.headers.range);
						// `0-0` refused at offset 0 can only mean one byte is there.
						if (sent === 0 && res.headers.range === "0-0") offset = 1;
						known = true;
						continue;
					}
					// Unknown now: the status request sorts out whether it was committed.
					if (res.status === 404) throw new Transient("PATCH of an unknown upload");
					this.expect(res, [202], "PATCH");
					offset = end;
					known = true;
				}
				const last = data.subarray(offset);
				known = false;
				const res = await this.send("PUT", `${location}?digest=${digest}`, {
					headers: {
						"content-type": "application/octet-stream",
						...(last.length > 0 ? { "content-range": `${offset}-${data.length - 1}` } : {}),
					},
					...(last.length > 0 ? { body: last } : {}),
					phase: "commit",
				});
				if (res.status === 404 && (await this.blobExists(repo, digest))) return;
				if (res.status === 416) {
					offset = rangeEnd(res.headers.range);
					known = true;
					throw new Transient("commit at a stale offset: resume");
				}
				this.expect(res, [201], "commit");
				if (res.headers["docker-content-digest"] !== digest) {
					throw new ProtocolError(`commit answered another digest than ${digest}`, res);
				}
			},
			() => {
				known = false;
			},
		);
		return digest;
	}

	async pushManifest(repo: string, reference: string, bytes: Uint8Array, mediaType: string) {
		const digest = sha256(bytes);
		await this.retrying(async () => {
			const res = await this.send("PUT", `/v2/${repo}/manifests/${reference}`, {
				headers: { "content-type": mediaType },
				body: bytes,
				phase: "manifest",
			});
			this.expect(res, [201], "manifest PUT");
			if (res.headers["docker-content-digest"] !== digest) {
				throw new ProtocolError("manifest PUT answered another digest", res);
			}
		});
		return digest;
	}

	async blobExists(repo: string, digest: string): Promise<boolean> {
		const res = await this.send("HEAD", `/v2/${repo}/blobs/${digest}`, { phase: "check" });
		if (res.status === 200) return true;
		if (res.status === 404) return false;
		throw this.failure(res, "blob HEAD");
	}

	async getBlob(repo: string, digest: string): Promise<Buffer> {
		return this.retrying(async () => {
			const res = await this.send("GET", `/v2/${repo}/blobs/${digest}`);
			if (res.status === 307) return this.follow(res.headers.location, digest);
			this.expect(res, [200], `GET blob ${digest}`);
			return res.body;
		});
	}

	/** A redirect to the backend (a signed URL): fetched directly, as clients do. */
	private async follow(location: string | undefined, digest: string): Promise<Buffer> {
		if (!location) throw new Error(`307 without Location for ${digest}`);
		const res = await request(location, { headersTimeout: 30_000, bodyTimeout: 30_000 });
		const body = Buffer.from(await res.body.arrayBuffer());
		if (res.statusCode !== 200) throw new Error(`redirect for ${digest}: ${res.statusCode}`);
		return body;
	}

	async getManifest(repo: string, reference: string): Promise<Res> {
		return this.retrying(async () => {
			const res = await this.send("GET", `/v2/${repo}/manifests/${reference}`, {
				headers: { accept: "*/*" },
			});
			this.expect(res, [200], `GET manifest ${reference}`);
			return res;
		});
	}

	private bodyOf(data: Uint8Array): Uint8Array | Readable {
		const piece = this.options.trickle;
		if (!piece || data.length <= piece) return data;
		return Readable.from(
			(async function* () {
				for (let at = 0; at < data.length; at += piece) {
					yield data.subarray(at, at + piece);
					await new Promise((r) => setImmediate(r));
				}
			})(),
		);
	}

	private expect(res: Res, statuses: number[], what: string): void {
		if (!statuses.includes(res.status)) throw this.failure(res, what);
	}

	private failure(res: Res, what: string): Error {
		// 503 (a backend fault) and 409 (the upload is busy) say: try again.
		if (res.status === 503 || res.status === 409) return new Transient(`${what}: ${res.status}`);
		return new ProtocolError(what, res);
	}

	/** Run `fn` until it succeeds, recovering from transient failures up to the allowance. */
	private async retrying<T>(fn: () => Promise<T>, onFailure?: () => void): Promise<T> {
		let failures = 0;
		for (;;) {
			try {
				return await fn();
			} catch (err) {
				if (err instanceof ProtocolError) throw err;
				if (++failures > (this.options.retries ?? 0)) throw err;
				this.stats.retries++;
				onFailure?.();
				if (this.options.recover) await this.options.recover();
				else await sleep(50);
			}
		}
	}
}

/** The path of a Location header (absolute URL or path). */
function pathOf(location: string | undefined): string {
	if (!location) throw new Error("no Location header");
	return location.startsWith("/") ? location : new URL(location).pathname;
}

/** A small OCI image: config and layers, and the manifest that names them. */
export function imageManifest(config: Uint8Array, layers: Uint8Array[]) {
	const manifest = {
		schemaVersion: 2,
		mediaType: "application/vnd.oci.image.manifest.v1+json",
		config: {
			mediaType: "application/vnd.oci.image.config.v1+json",
			digest: sha256(config),
			size: config.length,
		},
		layers: layers.map((l) => ({
			mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
			digest: sha256(l),
			size: l.length,
		})),
	};
	const bytes = Buffer.from(JSON.stringify(manifest));
	return { bytes, digest: sha256(bytes), mediaType: manifest.mediaType };
}
