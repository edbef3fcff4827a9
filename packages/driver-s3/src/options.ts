import type { S3Client } from "@aws-sdk/client-s3";

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
/** S3's smallest non-final part and largest part or single-copy source. */
export const S3_MIN_PART_SIZE = 5 * MiB;
export const S3_MAX_PART_SIZE = 5 * GiB;
export const S3_MAX_PARTS = 10_000;

/**
 * The options of Distribution's `storage.s3` section, by the same lower-case names, so a
 * Distribution config.yml works unchanged. Values may be strings (as environment overrides
 * deliver them) or numbers and booleans (as YAML does). Keys Distribution knows but that have no
 * effect here (v4auth: true, loglevel) are accepted; unknown keys are ignored, as Distribution does.
 */
export interface S3DriverOptions {
	bucket: string;
	region?: string;
	/** An S3-compatible endpoint (MinIO, R2, Ceph, a test server); `http(s)://host[:port]`. */
	regionendpoint?: string;
	forcepathstyle?: boolean | string;
	accesskey?: string;
	secretkey?: string;
	sessiontoken?: string;
	/** Key prefix for everything the driver stores; default the bucket root. */
	rootdirectory?: string;
	/** Multipart part size of uploads (and the bound of the writer's memory); default 10 MiB. */
	chunksize?: number | string;
	multipartcopychunksize?: number | string;
	multipartcopymaxconcurrency?: number | string;
	multipartcopythresholdsize?: number | string;
	/** STANDARD (default), REDUCED_REDUNDANCY, STANDARD_IA, ..., or NONE to send no class. */
	storageclass?: string;
	/** Server-side encryption: AES256, or aws:kms with `keyid`. */
	encrypt?: boolean | string;
	keyid?: string;
	/** A canned ACL sent with every write; default none (buckets with ACLs disabled refuse any). */
	objectacl?: string;
	/** false: plain HTTP when `regionendpoint` has no scheme (and for AWS endpoints). */
	secure?: boolean | string;
	/** Accept any TLS certificate from the endpoint. */
	skipverify?: boolean | string;
	v4auth?: boolean | string;
	useragent?: string;
	usedualstack?: boolean | string;
	accelerate?: boolean | string;
	usefipsendpoint?: boolean | string;
	loglevel?: string;
	/** Presign redirect URLs for this endpoint instead (a CDN or public name of the store). */
	redirectendpoint?: string;
	/** Lifetime of redirect URLs in seconds when the caller gives none; default 1200 (20 min). */
	redirectexpiry?: number | string;
	/** Attempts per request, retries included (SDK standard retry with backoff); default 5. */
	maxattempts?: number | string;
	/** Socket inactivity timeout in ms before a request is failed and retried; default 60000. */
	requesttimeout?: number | string;
	/**
	 * The backend's smallest non-final part (default 5 MiB, AWS's rule). Lower only for an
	 * S3-compatible store, or a test server, that accepts smaller parts.
	 */
	minchunksize?: number | string;
	/** The backend's highest part number (default 10,000). */
	maxparts?: number | string;
	/** Use this client instead of building one (tests, custom middleware, shared pools). */
	client?: S3Client;
	/** Name in error messages; default "s3". */
	name?: string;
}

export type ServerSideEncryption = {
	ServerSideEncryption?: "AES256" | "aws:kms";
	SSEKMSKeyId?: string;
};

export interface ResolvedOptions {
	name: string;
	bucket: string;
	region: string;
	endpoint: string | undefined;
	forcePathStyle: boolean;
	credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
	rootDirectory: string;
	chunkSize: number;
	minChunkSize: number;
	maxParts: number;
	copyChunkSize: number;
	copyMaxConcurrency: number;
	copyThreshold: number;
	storageClass: string | undefined;
	encryption: ServerSideEncryption;
	acl: string | undefined;
	skipVerify: boolean;
	userAgent: string | undefined;
	dualStack: boolean;
	accelerate: boolean;
	fips: boolean;
	redirectEndpoint: string | undefined;
	redirectExpiry: number;
	maxAttempts: number;
	requestTimeout: number;
	client: S3Client | undefined;
}

const STORAGE_CLASSES = [
	"STANDARD",
	"REDUCED_REDUNDANCY",
	"STANDARD_IA",
	"ONEZONE_IA",
	"INTELLIGENT_TIERING",
	"GLACIER_IR",
	"OUTPOSTS",
	"EXPRESS_ONEZONE",
];

export class S3OptionsError extends Error {}

function bool(name: string, value: unknown, fallback: boolean): boolean {
	if (value === undefined || value === null || value === "") return fallback;
	if (typeof value === "boolean") return value;
	if (typeof value === "string" && /^(true|false)$/i.test(value.trim())) {
		return value.trim().toLowerCase() === "true";
	}
	throw new S3OptionsError(`${name} must be a boolean, got ${JSON.stringify(value)}`);
}

function int(name: string, value: unknown, fallback: number, min: number, max: number): number {
	if (value === undefined || value === null || value === "") return fallback;
	const n =
		typeof value === "number"
			? value
			: typeof value === "string"
				? Number(value.trim())
				: Number.NaN;
	if (!Number.isSafeInteger(n))
		throw new S3OptionsError(`${name} must be an integer, got ${JSON.stringify(value)}`);
	if (n < min || n > max)
		throw new S3OptionsError(`${name} must be between ${min} and ${max}, got ${n}`);
	return n;
}

function str(value: unknown): string | undefined {
	if (value === undefined || value === null) return undefined;
	const s = String(value).trim();
	return s === "" ? undefined : s;
}

/** Validate and default the options once, with Distribution's defaults and limits. */
export function resolveOptions(options: S3DriverOptions): ResolvedOptions {
	const o = options as S3DriverOptions & Record<string, unknown>;
	const bucket = str(o.bucket);
	if (!bucket) throw new S3OptionsError("bucket is required");
	if (!bool("v4auth", o.v4auth, true)) {
		throw new S3OptionsError("v4auth: false (signature version 2) is not supported");
	}
	const secure = bool("secure", o.secure, true);
	let endpoint = str(o.regionendpoint);
	if (endpoint && !/^https?:\/\//i.test(endpoint))
		endpoint = `${secure ? "https" : "http"}://${endpoint}`;
	const region = str(o.region) ?? (endpoint ? "us-east-1" : undefined);
	if (!region)
		throw new S3OptionsError("region is required (or regionendpoint for an S3-compatible store)");
	if (!endpoint && !secure) endpoint = `http://s3.${region}.amazonaws.com`;
	const accessKey = str(o.accesskey);
	const secretKey = str(o.secretkey);
	if (Boolean(accessKey) !== Boolean(secretKey)) {
		throw new S3OptionsError(
			"accesskey and secretkey go together (omit both for the default credential chain)",
		);
	}
	const sessionToken = str(o.sessiontoken);
	const minChunkSize = int("minchunksize", o.minchunksize, S3_MIN_PART_SIZE, 1, S3_MAX_PART_SIZE);
	const chunkSize = int("chunksize", o.chunksize, 10 * MiB, minChunkSize, S3_MAX_PART_SIZE);
	const storageClass = str(o.storageclass)?.toUpperCase() ?? "STANDARD";
	if (storageClass !== "NONE" && !STORAGE_CLASSES.includes(storageClass)) {
		throw new S3OptionsError(
			`storageclass must be one of ${STORAGE_CLASSES.join(", ")} or NONE, got ${storageClass}`,
		);
	}
	const keyId = str(o.keyid);
	const encrypt = bool("encrypt", o.encrypt, false);
	const encryption: ServerSideEncryption = encrypt
		? keyId
			? { ServerSideEncryption: "aws:kms", SSEKMSKeyId: keyId }
			: { ServerSideEncryption: "AES256" }
		: {};
	let redirectEndpoint = str(o.redirectendpoint);
	if (redirectEndpoint && !/^https?:\/\//i.test(redirectEndpoint))
		redirectEndpoint = `https://${redirectEndpoint}`;
	return {
		name: str(o.name) ?? "s3",
		bucket,
		region,
		endpoint,
		forcePathStyle: bool("forcepathstyle", o.forcepathstyle, false),
		credentials:
			accessKey && secretKey
				? {
						accessKeyId: accessKey,
						secretAccessKey: secretKey,
						...(sessionToken ? { sessionToken } : {}),
					}
				: undefined,
		rootDirectory: (str(o.rootdirectory) ?? "").replace(/^\/+|\/+$/g, ""),
		chunkSize,
		minChunkSize,
		maxParts: int("maxparts", o.maxparts, S3_MAX_PARTS, 1, 1_000_000),
		copyChunkSize: int(
			"multipartcopychunksize",
			o.multipartcopychunksize,
			32 * MiB,
			minChunkSize,
			S3_MAX_PART_SIZE,
		),
		copyMaxConcurrency: int(
			"multipartcopymaxconcurrency",
			o.multipartcopymaxconcurrency,
			100,
			1,
			10_000,
		),
		copyThreshold: int(
			"multipartcopythresholdsize",
			o.multipartcopythresholdsize,
			32 * MiB,
			0,
			S3_MAX_PART_SIZE,
		),
		storageClass: storageClass === "NONE" ? undefined : storageClass,
		encryption,
		acl: str(o.objectacl),
		skipVerify: bool("skipverify", o.skipverify, false),
		userAgent: str(o.useragent),
		dualStack: bool("usedualstack", o.usedualstack, false),
		accelerate: bool("accelerate", o.accelerate, false),
		fips: bool("usefipsendpoint", o.usefipsendpoint, false),
		redirectEndpoint,
		redirectExpiry: int("redirectexpiry", o.redirectexpiry, 1200, 1, 7 * 24 * 3600),
		maxAttempts: int("maxattempts", o.maxattempts, 5, 1, 100),
		requestTimeout: int("requesttimeout", o.requesttimeout, 60_000, 0, 24 * 3600_000),
		client: o.client,
	};
}
