import { readFileSync } from "node:fs";
import type { Storage } from "@google-cloud/storage";

/** GCS's resumable-upload granularity: every chunk but the last is a multiple of this. */
export const CHUNK_GRANULARITY = 256 * 1024;

/** A service-account key (the fields of its JSON file); `client_email` and `private_key` sign. */
export interface ServiceAccountCredentials {
	type?: string;
	project_id?: string;
	private_key_id?: string;
	private_key?: string;
	client_email?: string;
	client_id?: string;
	[field: string]: unknown;
}

export interface RetryOptions {
	/** Attempts per request, the first included. Default 6. */
	maxAttempts?: number;
	/** First backoff ceiling in ms (full jitter, doubling). Default 200. */
	baseDelayMs?: number;
	/** Backoff ceiling in ms. Default 10,000. */
	maxDelayMs?: number;
}

/**
 * Options of `createGcsDriver`. The lower-case keys are Distribution's `storage.gcs` parameters,
 * so a Distribution config.yml works unchanged; numbers may arrive as strings (from YAML or
 * environment overrides).
 */
export interface GcsDriverOptions {
	bucket: string;
	/** Path of a service-account JSON key file. */
	keyfile?: string;
	/** The service-account key inline (Distribution's `credentials` map). */
	credentials?: ServiceAccountCredentials;
	/** Prefix of every object the driver writes, e.g. `/registry`. Default: the bucket root. */
	rootdirectory?: string;
	/** Bytes buffered per writer and sent per request; a multiple of 256 KiB. Default 16 MiB. */
	chunksize?: number | string;
	/** Requests in flight to GCS at once, across the driver. Default 50. */
	maxconcurrency?: number | string;
	useragent?: string;
	/** API endpoint, e.g. `http://127.0.0.1:4443` for an emulator (no auth is sent then). */
	apiEndpoint?: string;
	apiendpoint?: string;
	projectId?: string;
	projectid?: string;
	/** An already configured client (its own credentials and retry settings apply). */
	storage?: Storage;
	/**
	 * Whether redirectURL hands out signed URLs. Default: when a private key is configured (via
	 * keyfile or credentials). Set true for an injected client that can sign (e.g. via IAM).
	 */
	redirect?: boolean;
	/** Default lifetime of a signed URL in seconds. Default 1200 (20 minutes). */
	redirectExpiresIn?: number;
	retry?: RetryOptions;
	/** Timeout of one upload request to a session URI, in ms. Default 300,000. */
	requestTimeoutMs?: number;
	/** Driver name in errors. Default "gcs". */
	name?: string;
}

export interface ResolvedOptions {
	name: string;
	bucket: string;
	rootdirectory: string;
	chunksize: number;
	maxconcurrency: number;
	credentials?: ServiceAccountCredentials;
	keyfile?: string;
	useragent?: string;
	apiEndpoint?: string;
	projectId?: string;
	storage?: Storage;
	redirect?: boolean;
	redirectExpiresIn: number;
	retry: Required<RetryOptions>;
	requestTimeoutMs: number;
}

const MiB = 1024 * 1024;

export function resolveOptions(o: GcsDriverOptions): ResolvedOptions {
	if (!o || typeof o.bucket !== "string" || o.bucket === "") {
		throw new Error("gcs: the bucket parameter is required");
	}
	const chunksize = integer("chunksize", o.chunksize, 16 * MiB);
	if (chunksize < CHUNK_GRANULARITY || chunksize % CHUNK_GRANULARITY !== 0) {
		throw new Error(
			`gcs: chunksize must be a positive multiple of ${CHUNK_GRANULARITY}, got ${chunksize}`,
		);
	}
	const maxconcurrency = integer("maxconcurrency", o.maxconcurrency, 50);
	if (maxconcurrency < 1) throw new Error("gcs: maxconcurrency must be at least 1");
	const redirectExpiresIn = integer("redirectExpiresIn", o.redirectExpiresIn, 1200);
	let credentials = o.credentials;
	if (o.keyfile !== undefined && credentials === undefined) {
		credentials = JSON.parse(readFileSync(o.keyfile, "utf8")) as ServiceAccountCredentials;
	}
	const apiEndpoint = o.apiEndpoint ?? o.apiendpoint;
	const projectId = o.projectId ?? o.projectid ?? credentials?.project_id;
	return {
		name: o.name ?? "gcs",
		bucket: o.bucket,
		rootdirectory: o.rootdirectory ?? "",
		chunksize,
		maxconcurrency,
		redirectExpiresIn,
		retry: {
			maxAttempts: o.retry?.maxAttempts ?? 6,
			baseDelayMs: o.retry?.baseDelayMs ?? 200,
			maxDelayMs: o.retry?.maxDelayMs ?? 10_000,
		},
		requestTimeoutMs: o.requestTimeoutMs ?? 300_000,
		...(credentials !== undefined && { credentials }),
		...(o.keyfile !== undefined && { keyfile: o.keyfile }),
		...(o.useragent !== undefined && { useragent: o.useragent }),
		...(apiEndpoint !== undefined && { apiEndpoint }),
		...(projectId !== undefined && { projectId }),
		...(o.storage !== undefined && { storage: o.storage }),
		...(o.redirect !== undefined && { redirect: o.redirect }),
	};
}

function integer(name: string, value: number | string | undefined, fallback: number): number {
	if (value === undefined || value === "") return fallback;
	const n = typeof value === "number" ? value : Number(value);
	if (!Number.isSafeInteger(n)) throw new Error(`gcs: ${name} must be an integer, got ${value}`);
	return n;
}
