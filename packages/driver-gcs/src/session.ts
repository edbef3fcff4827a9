import { backoffDelay, type RetryPolicy, sleep } from "@stowage/core";
import { type ObjectInfo, objectInfo } from "./bucket-api.js";
import { GcsHttpError, isAbort, isRetryable, SessionLostError } from "./gcs-errors.js";
import type { Limiter } from "./limiter.js";

/** 308 answers in a row that persisted nothing new before the upload is declared stuck. */
const MAX_STALLS = 5;

export interface SessionDeps {
	limiter: Limiter;
	policy: RetryPolicy;
	requestTimeoutMs: number;
}

/**
 * The client side of one resumable upload session, from GCS's protocol: PUT chunks with
 * `Content-Range: bytes a-b/*` (non-final, multiples of 256 KiB) or `bytes a-b/<total>` (final),
 * read the persisted size from each 308's Range header, and resend whatever GCS did not keep.
 * After a failure whose outcome is unknown (a reset, a timeout, a 5xx) it asks the session where
 * it stands (`bytes *\/*`) before sending again, so it never sends from a wrong offset. The
 * session URI authorizes these requests by itself: no credentials are attached.
 */
export class ResumableSession {
	/** Bytes GCS has confirmed. */
	persisted = 0;
	/** A request failed without a usable answer: the persisted size must be asked for. */
	private uncertain = false;

	constructor(
		readonly uri: string,
		private readonly deps: SessionDeps,
	) {}

	/**
	 * Make the session hold exactly `start + data.length` bytes, where `data` begins at offset
	 * `start` of the upload. With `total` equal to that, this finalizes the object and returns it.
	 */
	async send(
		data: Uint8Array,
		start: number,
		total: number | undefined,
		signal?: AbortSignal,
	): Promise<ObjectInfo | undefined> {
		const end = start + data.length;
		const final = total !== undefined && total === end;
		let failures = 0;
		let stalls = 0;
		for (;;) {
			signal?.throwIfAborted();
			try {
				if (this.uncertain) {
					const state = await this.query(signal);
					if (typeof state !== "number") {
						if (final && state.size === total) return state;
						throw new Error(`the session finished unexpectedly at ${state.size} bytes`);
					}
					this.persisted = state;
					this.uncertain = false;
				}
				if (this.persisted < start || this.persisted > end) {
					throw new Error(
						`the session holds ${this.persisted} bytes, expected between ${start} and ${end}`,
					);
				}
				if (this.persisted === end && !final) return undefined;
				const rest = data.subarray(this.persisted - start);
				const range =
					rest.length === 0
						? `bytes */${total}`
						: `bytes ${this.persisted}-${end - 1}/${final ? total : "*"}`;
				const before = this.persisted;
				const reply = await this.put(range, rest, signal);
				if (typeof reply !== "number") return reply;
				this.persisted = reply;
				if (reply > before) {
					stalls = 0;
					failures = 0;
				} else if (++stalls >= MAX_STALLS) {
					throw new Error(`the session persisted nothing in ${MAX_STALLS} answers at ${reply}`);
				}
				continue;
			} catch (err) {
				// Whatever happened, the session may hold more than we know: ask before sending.
				this.uncertain = true;
				if (isAbort(err, signal) || err instanceof SessionLostError || !isRetryable(err)) throw err;
				if (++failures >= this.deps.policy.maxAttempts) throw err;
			}
			await sleep(backoffDelay(this.deps.policy, failures), signal);
		}
	}

	/** Cancel the session (GCS answers 499); best effort. */
	async cancel(): Promise<void> {
		try {
			const res = await fetch(this.uri, { method: "DELETE", redirect: "manual" });
			await res.arrayBuffer();
		} catch {
			// The session expires by itself.
		}
	}

	/** The persisted size, or the object if the upload already finished. */
	private query(signal?: AbortSignal): Promise<number | ObjectInfo> {
		return this.put("bytes */*", new Uint8Array(0), signal);
	}

	private put(range: string, body: Uint8Array, signal?: AbortSignal): Promise<number | ObjectInfo> {
		return this.deps.limiter.run(async () => {
			const timeout = AbortSignal.timeout(this.deps.requestTimeoutMs);
			const res = await fetch(this.uri, {
				method: "PUT",
				headers: { "content-range": range },
				body,
				redirect: "manual",
				signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
			});
			if (res.status === 308) {
				await res.arrayBuffer();
				return persistedFrom(res.headers.get("range"));
			}
			const text = await res.text();
			if (res.status === 200 || res.status === 201) {
				return objectInfo(JSON.parse(text) as Record<string, unknown>);
			}
			if (res.status === 404 || res.status === 410) throw new SessionLostError(res.status, text);
			throw new GcsHttpError(res.status, text);
		});
	}
}

/** A 308's `Range: bytes=0-<last>` says what is persisted; no Range means nothing yet. */
function persistedFrom(range: string | null): number {
	if (range === null) return 0;
	const m = /^bytes=0-(\d+)$/.exec(range.trim());
	if (!m) throw new Error(`unexpected Range header in a 308: ${range}`);
	return Number(m[1]) + 1;
}
