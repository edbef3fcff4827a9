import { GetObjectCommand, HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import type { DriverContext } from "./context.js";

/**
 * A presigned GET or HEAD URL (SigV4 query auth). The signature covers the method, so a GET URL
 * cannot be used for anything else. With `redirectendpoint` the URL is signed for that host.
 */
export function presign(
	ctx: DriverContext,
	presigner: S3Client,
	key: string,
	method: "GET" | "HEAD",
	expiresIn: number,
): Promise<string> {
	const input = { Bucket: ctx.bucket, Key: key };
	const command = method === "GET" ? new GetObjectCommand(input) : new HeadObjectCommand(input);
	return getSignedUrl(presigner, command, { expiresIn });
}
