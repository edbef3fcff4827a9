import type { GcResult } from "@stowage/core";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** Upload lifecycle events counted by `stowage_uploads_total`. */
export type UploadEvent = "started" | "committed" | "cancelled" | "mounted" | "purged";

/**
 * The server's Prometheus metrics, in a registry of their own (not prom-client's global one), so
 * tests and embedders can run several servers in one process. Labels are bounded: routes are the
 * OCI route kinds, never paths, and repositories are never labels.
 */
export class Metrics {
	readonly registry = new Registry();

	readonly requests = new Counter({
		name: "stowage_http_requests_total",
		help: "HTTP requests answered, by method, route and status (499: the client went away)",
		labelNames: ["method", "route", "status"] as const,
		registers: [this.registry],
	});
	readonly requestDuration = new Histogram({
		name: "stowage_http_request_duration_seconds",
		help: "Time from request to the end of the response, by method, route and status",
		labelNames: ["method", "route", "status"] as const,
		buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
		registers: [this.registry],
	});
	readonly bytesIn = new Counter({
		name: "stowage_http_request_bytes_total",
		help: "Request body bytes read, by route",
		labelNames: ["route"] as const,
		registers: [this.registry],
	});
	readonly bytesOut = new Counter({
		name: "stowage_http_response_bytes_total",
		help: "Response bytes written (headers included), by route",
		labelNames: ["route"] as const,
		registers: [this.registry],
	});
	readonly uploads = new Counter({
		name: "stowage_uploads_total",
		help: "Blob upload events: started, committed, cancelled, mounted, purged",
		labelNames: ["event"] as const,
		registers: [this.registry],
	});
	readonly storageDuration = new Histogram({
		name: "stowage_storage_operation_duration_seconds",
		help: "Storage driver calls, by driver and operation (failed ones included)",
		labelNames: ["driver", "operation"] as const,
		buckets: [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60],
		registers: [this.registry],
	});
	readonly storageErrors = new Counter({
		name: "stowage_storage_operation_errors_total",
		help: "Storage driver calls that failed, by driver and operation (not-found answers excluded)",
		labelNames: ["driver", "operation"] as const,
		registers: [this.registry],
	});
	readonly gcRuns = new Counter({
		name: "stowage_gc_runs_total",
		help: "Garbage collections run by this process, by result (ok, failed, dry_run)",
		labelNames: ["result"] as const,
		registers: [this.registry],
	});
	readonly gcBytesFreed = new Counter({
		name: "stowage_gc_bytes_freed_total",
		help: "Bytes of blobs garbage collection deleted",
		registers: [this.registry],
	});
	readonly gcBlobsDeleted = new Counter({
		name: "stowage_gc_blobs_deleted_total",
		help: "Blobs garbage collection deleted",
		registers: [this.registry],
	});
	readonly gcLastRun = new Gauge({
		name: "stowage_gc_last_success_timestamp_seconds",
		help: "When the last garbage collection that deleted (not a dry run) finished",
		registers: [this.registry],
	});

	constructor(options: { defaultMetrics?: boolean } = {}) {
		if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
		// Every series starts at zero, so a rate() never misses the first event.
		for (const event of ["started", "committed", "cancelled", "mounted", "purged"] as const) {
			this.uploads.inc({ event }, 0);
		}
		for (const result of ["ok", "failed", "dry_run"] as const) this.gcRuns.inc({ result }, 0);
	}

	upload(event: UploadEvent, count = 1): void {
		this.uploads.inc({ event }, count);
	}

	gcFinished(result: GcResult | undefined): void {
		if (!result) {
			this.gcRuns.inc({ result: "failed" });
			return;
		}
		if (result.dryRun) {
			this.gcRuns.inc({ result: "dry_run" });
			return;
		}
		this.gcRuns.inc({ result: "ok" });
		this.gcBytesFreed.inc(result.bytesFreed);
		this.gcBlobsDeleted.inc(result.blobsDeleted);
		this.gcLastRun.set(Date.now() / 1000);
	}
}
