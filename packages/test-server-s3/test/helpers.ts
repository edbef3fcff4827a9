import { S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll } from "vitest";
import { type S3TestServer, type S3TestServerOptions, startS3TestServer } from "../src/index.js";

export const ACCESS_KEY = "AKIDSTOWAGETEST";
export const SECRET_KEY = "stowage/test+secret";
export const BUCKET = "test-bucket";
export const MiB = 1024 * 1024;

export interface ClientOptions {
	secretAccessKey?: string;
	accessKeyId?: string;
	region?: string;
	/** The SDK's default checksum mode streams bodies with aws-chunked framing. */
	checksums?: "WHEN_SUPPORTED" | "WHEN_REQUIRED";
	maxAttempts?: number;
}

export function client(server: S3TestServer, options: ClientOptions = {}): S3Client {
	const mode = options.checksums ?? "WHEN_REQUIRED";
	return new S3Client({
		endpoint: server.url,
		region: options.region ?? server.region,
		forcePathStyle: true,
		credentials: {
			accessKeyId: options.accessKeyId ?? ACCESS_KEY,
			secretAccessKey: options.secretAccessKey ?? SECRET_KEY,
		},
		requestChecksumCalculation: mode,
		responseChecksumValidation: mode,
		maxAttempts: options.maxAttempts ?? 1,
	});
}

/** One server per test file, with a bucket; `limits` lowered where a test needs it. */
export function useServer(options: Partial<S3TestServerOptions> = {}): {
	server: S3TestServer;
	s3: S3Client;
} {
	const ctx = {} as { server: S3TestServer; s3: S3Client };
	beforeAll(async () => {
		ctx.server = await startS3TestServer({
			accessKeyId: ACCESS_KEY,
			secretAccessKey: SECRET_KEY,
			buckets: [BUCKET],
			...options,
		});
		ctx.s3 = client(ctx.server);
	});
	afterAll(async () => {
		ctx.s3?.destroy();
		await ctx.server?.close();
	});
	return ctx;
}

/** The S3 error code and HTTP status a rejected SDK call carried. */
export async function s3Error(
	promise: Promise<unknown>,
): Promise<{ name: string; status: number | undefined; message: string }> {
	try {
		await promise;
	} catch (err) {
		const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
		return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
	}
	throw new Error("expected the call to fail");
}
