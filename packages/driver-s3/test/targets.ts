import { S3Client } from "@aws-sdk/client-s3";

/** An S3 endpoint the suites run against, as globalSetup provides it to the test files. */
export interface S3Target {
	name: "strict" | "s3rver" | "endpoint";
	endpoint: string;
	region: string;
	bucket: string;
	accessKeyId: string;
	secretAccessKey: string;
	forcePathStyle: boolean;
}

declare module "vitest" {
	export interface ProvidedContext {
		s3Targets: S3Target[];
		/** Why a local server is not running (an external endpoint was given instead). */
		s3TargetNote: string;
	}
}

/** A client like the driver builds (checksums only where required), for checks outside it. */
export function targetClient(t: S3Target): S3Client {
	return new S3Client({
		endpoint: t.endpoint,
		region: t.region,
		forcePathStyle: t.forcePathStyle,
		credentials: { accessKeyId: t.accessKeyId, secretAccessKey: t.secretAccessKey },
		requestChecksumCalculation: "WHEN_REQUIRED",
		responseChecksumValidation: "WHEN_REQUIRED",
	});
}

/** Driver options (Distribution's keys) for a target, with a root of its own. */
export function driverOptions(t: S3Target, rootdirectory: string) {
	return {
		bucket: t.bucket,
		region: t.region,
		regionendpoint: t.endpoint,
		forcepathstyle: t.forcePathStyle,
		accesskey: t.accessKeyId,
		secretkey: t.secretAccessKey,
		rootdirectory,
	};
}

/**
 * The environment variables that point the suites at any S3 endpoint (real S3, MinIO, R2,
 * Ceph): `pnpm --filter @stowage/driver-s3 test:conformance` then certifies that endpoint.
 */
export function endpointFromEnv(env = process.env): S3Target | undefined {
	const endpoint = env.STOWAGE_S3_ENDPOINT;
	if (!endpoint) return undefined;
	const need = (name: string) => {
		const v = env[name];
		if (!v) throw new Error(`STOWAGE_S3_ENDPOINT is set, so ${name} must be too`);
		return v;
	};
	return {
		name: "endpoint",
		endpoint,
		region: env.STOWAGE_S3_REGION ?? "us-east-1",
		bucket: need("STOWAGE_S3_BUCKET"),
		accessKeyId: need("STOWAGE_S3_ACCESS_KEY"),
		secretAccessKey: need("STOWAGE_S3_SECRET_KEY"),
		forcePathStyle: (env.STOWAGE_S3_FORCE_PATH_STYLE ?? "true") !== "false",
	};
}
