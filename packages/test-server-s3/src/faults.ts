/**
 * Fault injection for retry tests: the next N requests of an operation fail in a chosen way.
 * Faults fire after the request is authenticated and its body read, so a failure is never
 * confused with a malformed request.
 */
export type FaultKind =
	/** Answer with an S3 error (default 503 SlowDown). */
	| "error"
	/** Destroy the connection without answering; nothing is applied. */
	| "reset"
	/** Apply the request, then destroy the connection: the client never learns it succeeded. */
	| "reset-after"
	/** GetObject only: send the headers and half the body, then destroy the connection. */
	| "truncate"
	/** Wait before handling the request. */
	| "delay";

export interface FaultSpec {
	/** S3 operation name (PutObject, UploadPart, ...) or "*" for any. */
	operation: string;
	kind?: FaultKind;
	/** How many matching requests fail; default 1. */
	times?: number;
	status?: number;
	code?: string;
	message?: string;
	delayMs?: number;
	/** Only requests for this key (exact string) or matching this pattern. */
	key?: string | RegExp;
}

export interface ActiveFault extends Required<Pick<FaultSpec, "operation" | "kind">> {
	status: number;
	code: string;
	message: string;
	delayMs: number;
	key?: string | RegExp | undefined;
	remaining: number;
}

export class Faults {
	private readonly active: ActiveFault[] = [];
	/** Faults that have fired, by operation. */
	readonly fired: Record<string, number> = {};

	inject(spec: FaultSpec): void {
		this.active.push({
			operation: spec.operation,
			kind: spec.kind ?? "error",
			status: spec.status ?? 503,
			code:
				spec.code ??
				(spec.status === undefined || spec.status === 503 ? "SlowDown" : "InternalError"),
			message: spec.message ?? "Injected fault",
			delayMs: spec.delayMs ?? 0,
			key: spec.key,
			remaining: spec.times ?? 1,
		});
	}

	/** Shorthand: the next `times` requests of `operation` get an S3 error (default 503 SlowDown). */
	fail(operation: string, times = 1, status = 503, code?: string): void {
		this.inject({ operation, times, status, ...(code === undefined ? {} : { code }) });
	}

	/** Shorthand: the next `times` requests of `operation` lose their connection. */
	reset(operation: string, times = 1, after = false): void {
		this.inject({ operation, times, kind: after ? "reset-after" : "reset" });
	}

	clear(): void {
		this.active.length = 0;
	}

	/** Faults not yet used up. */
	get pending(): number {
		return this.active.reduce((n, f) => n + f.remaining, 0);
	}

	/** Consume the first fault matching this request, if any. */
	take(operation: string, key: string | undefined): ActiveFault | undefined {
		const i = this.active.findIndex(
			(f) =>
				(f.operation === "*" || f.operation === operation) &&
				(f.key === undefined ||
					(typeof f.key === "string" ? f.key === key : key !== undefined && f.key.test(key))),
		);
		if (i < 0) return undefined;
		const fault = this.active[i] as ActiveFault;
		if (--fault.remaining <= 0) this.active.splice(i, 1);
		this.fired[operation] = (this.fired[operation] ?? 0) + 1;
		return fault;
	}
}

/** Counters a test reads to prove what crossed the wire (e.g. that resumes move O(n) bytes). */
export class Stats {
	requests = 0;
	/** Requests per S3 operation. */
	operations: Record<string, number> = {};
	/** Object bytes the server accepted (PutObject and UploadPart bodies, decoded). */
	bytesIn = 0;
	/** Object bytes the server sent (GetObject bodies). */
	bytesOut = 0;
	/** Bytes copied inside the server (CopyObject, UploadPartCopy, CompleteMultipartUpload excluded). */
	bytesCopied = 0;
	/** The most requests of one operation the server was handling at once. */
	peakConcurrency: Record<string, number> = {};
	private readonly inFlight: Record<string, number> = {};

	count(operation: string): void {
		this.requests++;
		this.operations[operation] = (this.operations[operation] ?? 0) + 1;
	}

	enter(operation: string): void {
		const n = (this.inFlight[operation] ?? 0) + 1;
		this.inFlight[operation] = n;
		if (n > (this.peakConcurrency[operation] ?? 0)) this.peakConcurrency[operation] = n;
	}

	leave(operation: string): void {
		this.inFlight[operation] = (this.inFlight[operation] ?? 1) - 1;
	}

	reset(): void {
		this.requests = 0;
		this.operations = {};
		this.bytesIn = 0;
		this.bytesOut = 0;
		this.bytesCopied = 0;
		this.peakConcurrency = {};
	}

	snapshot(): {
		requests: number;
		operations: Record<string, number>;
		bytesIn: number;
		bytesOut: number;
		bytesCopied: number;
	} {
		return {
			requests: this.requests,
			operations: { ...this.operations },
			bytesIn: this.bytesIn,
			bytesOut: this.bytesOut,
			bytesCopied: this.bytesCopied,
		};
	}
}
