import type { BlobServiceClient, ContainerClient } from "@azure/storage-blob";
import { StowageError } from "@stowage/core";

const KiB = 1024;
const MiB = 1024 * KiB;

/** Azure's own limits, which bound the options below. */
export const AZURE_MAX_BLOCK_SIZE = 4000 * MiB;
/** Copy Blob From URL (the synchronous copy) accepts sources up to this size. */
export const AZURE_MAX_SYNC_COPY = 256 * MiB;

export const DEFAULT_BLOCK_SIZE = 16 * MiB;
export const MIN_BLOCK_SIZE = 64 * KiB;
const DEFAULT_REDIRECT_EXPIRY_SECONDS = 20 * 60;
const DEFAULT_MAX_RETRIES = 5;
const DEFAULT_RETRY_DELAY_MS = 100;
const DEFAULT_DELETE_CONCURRENCY = 16;

export type AzureCredentialsType = "shared_key" | "client_secret" | "default_credentials";

/**
 * Distribution's `storage.azure` section, key for key, so a config.yml can be passed unchanged;
 * plus a few keys of this driver (`blocksize`, `synccopymaxsize`, `redirectexpiry`,
 * `deleteconcurrency`) and injected clients for tests and embedding. Numbers may arrive as
 * strings (environment overrides); durations as Go-style strings (`100ms`, `20m`) or numbers of
 * milliseconds.
 */
export interface AzureDriverOptions {
	accountname?: string;
	accountkey?: string;
	/** Created on first use when missing. Required unless `containerClient` is given. */
	container?: string;
	connectionstring?: string;
	/** Default `https://<accountname>.blob.<realm>`. */
	serviceurl?: string;
	/** Default `core.windows.net`. */
	realm?: string;
	/** Key prefix inside the container; default none (the whole container). */
	rootdirectory?: string;
	credentials?: {
		type?: AzureCredentialsType;
		clientid?: string;
		tenantid?: string;
		secret?: string;
	};
	/** Retries of a failed request (Distribution's default 5). */
	max_retries?: number | string;
	/** Base delay between retries, growing exponentially (default 100ms). */
	retry_delay?: number | string;
	/** Not supported: trust a private CA with NODE_EXTRA_CA_CERTS instead. */
	skipverify?: boolean | string;
	/** Size of the blocks an upload is staged in (default 16 MiB); bounds a writer's memory. */
	blocksize?: number | string;
	/** Moves of blobs up to this size use the synchronous copy (default and maximum 256 MiB). */
	synccopymaxsize?: number | string;
	/** Default lifetime of redirect URLs (default 20m). */
	redirectexpiry?: number | string;
	/** Blobs deleted at once by a directory delete (default 16). */
	deleteconcurrency?: number | string;
	/** Use this container client (its credential decides what the driver can sign). */
	containerClient?: ContainerClient;
	/** Use this service client with `container`. */
	blobServiceClient?: BlobServiceClient;
	/** Driver name carried by every error. Default "azure". */
	name?: string;
}

/** A configuration the driver cannot work with; thrown by the factory, before any I/O. */
export class AzureConfigError extends StowageError {
	readonly code = "AZURE_CONFIG";
}

export interface ResolvedAzureOptions {
	readonly name: string;
	/** Blob-name prefix of every path: "" or "<root>/" (no leading slash). */
	readonly prefix: string;
	readonly blockSize: number;
	readonly syncCopyMaxSize: number;
	readonly redirectExpirySeconds: number;
	readonly maxRetries: number;
	readonly retryDelayMs: number;
	readonly deleteConcurrency: number;
}

export function resolveOptions(options: AzureDriverOptions): ResolvedAzureOptions {
	if (parseBoolean("skipverify", options.skipverify)) {
		throw new AzureConfigError(
			"skipverify is not supported: trust the endpoint's CA with NODE_EXTRA_CA_CERTS",
		);
	}
	const blockSize = parseInteger("blocksize", options.blocksize) ?? DEFAULT_BLOCK_SIZE;
	if (blockSize < MIN_BLOCK_SIZE || blockSize > AZURE_MAX_BLOCK_SIZE) {
		throw new AzureConfigError(
			`blocksize must be between ${MIN_BLOCK_SIZE} and ${AZURE_MAX_BLOCK_SIZE} bytes, got ${blockSize}`,
		);
	}
	const syncCopyMaxSize =
		parseInteger("synccopymaxsize", options.synccopymaxsize) ?? AZURE_MAX_SYNC_COPY;
	if (syncCopyMaxSize > AZURE_MAX_SYNC_COPY) {
		throw new AzureConfigError(
			`synccopymaxsize cannot exceed Azure's limit of 256 MiB (${AZURE_MAX_SYNC_COPY} bytes)`,
		);
	}
	const redirectMs = parseDuration("redirectexpiry", options.redirectexpiry);
	const redirectExpirySeconds =
		redirectMs === undefined ? DEFAULT_REDIRECT_EXPIRY_SECONDS : Math.ceil(redirectMs / 1000);
	if (redirectExpirySeconds <= 0) throw new AzureConfigError("redirectexpiry must be positive");
	const deleteConcurrency =
		parseInteger("deleteconcurrency", options.deleteconcurrency) ?? DEFAULT_DELETE_CONCURRENCY;
	if (deleteConcurrency < 1) throw new AzureConfigError("deleteconcurrency must be at least 1");
	return {
		name: options.name ?? "azure",
		prefix: normalizeRoot(options.rootdirectory),
		blockSize,
		syncCopyMaxSize,
		redirectExpirySeconds,
		maxRetries: parseInteger("max_retries", options.max_retries) ?? DEFAULT_MAX_RETRIES,
		retryDelayMs: parseDuration("retry_delay", options.retry_delay) ?? DEFAULT_RETRY_DELAY_MS,
		deleteConcurrency,
	};
}

/** `/a/b/` → `a/b/`; empty or `/` → "" (the whole container). */
export function normalizeRoot(root: string | undefined): string {
	const parts = (root ?? "").split("/").filter((p) => p !== "");
	for (const part of parts) {
		if (part === "." || part === "..") {
			throw new AzureConfigError(`rootdirectory may not contain "${part}"`);
		}
	}
	return parts.length === 0 ? "" : `${parts.join("/")}/`;
}

function parseInteger(key: string, value: number | string | undefined): number | undefined {
	if (value === undefined || value === "") return undefined;
	const n = typeof value === "number" ? value : Number(value.trim());
	if (!Number.isSafeInteger(n) || n < 0) {
		throw new AzureConfigError(`${key} must be a non-negative integer, got ${String(value)}`);
	}
	return n;
}

function parseBoolean(key: string, value: boolean | string | undefined): boolean {
	if (value === undefined || typeof value === "boolean") return value ?? false;
	const v = value.trim().toLowerCase();
	if (v === "true" || v === "1") return true;
	if (v === "false" || v === "0" || v === "") return false;
	throw new AzureConfigError(`${key} must be true or false, got ${value}`);
}

const UNIT_MS: Record<string, number> = {
	ns: 1e-6,
	us: 1e-3,
	µs: 1e-3,
	ms: 1,
	s: 1000,
	m: 60_000,
	h: 3_600_000,
};

/** Go durations (`1m30s`, `100ms`) or a number of milliseconds. */
export function parseDuration(key: string, value: number | string | undefined): number | undefined {
	if (value === undefined || value === "") return undefined;
	if (typeof value === "number") {
		if (!Number.isFinite(value) || value < 0) {
			throw new AzureConfigError(`${key} must be a non-negative duration, got ${value}`);
		}
		return value;
	}
	const text = value.trim();
	if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
	const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
	let total = 0;
	let at = 0;
	while (at < text.length) {
		re.lastIndex = at;
		const m = re.exec(text);
		if (!m) throw new AzureConfigError(`${key} is not a duration: ${JSON.stringify(value)}`);
		total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
		at = re.lastIndex;
	}
	return total;
}
