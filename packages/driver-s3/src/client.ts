import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";
import type { ResolvedOptions } from "./options.js";

/**
 * Build the SDK client from the options. Retries are the SDK's standard strategy (exponential
 * backoff with jitter over 5xx, SlowDown/throttling, timeouts and connection resets), with
 * `maxattempts` attempts. Checksums are sent only where S3 requires them: the SDK's default
 * streams bodies with aws-chunked framing, which several S3-compatible stores mishandle.
 */
export function buildClient(o: ResolvedOptions, endpoint = o.endpoint): S3Client {
	const agentOptions = { keepAlive: true, maxSockets: Math.max(64, o.copyMaxConcurrency) };
	const config: S3ClientConfig = {
		region: o.region,
		forcePathStyle: o.forcePathStyle,
		requestChecksumCalculation: "WHEN_REQUIRED",
		responseChecksumValidation: "WHEN_REQUIRED",
		maxAttempts: o.maxAttempts,
		retryMode: "standard",
		useDualstackEndpoint: o.dualStack,
		useAccelerateEndpoint: o.accelerate,
		useFipsEndpoint: o.fips,
		requestHandler: {
			connectionTimeout: 10_000,
			requestTimeout: o.requestTimeout,
			httpAgent: new HttpAgent(agentOptions),
			httpsAgent: new HttpsAgent({ ...agentOptions, rejectUnauthorized: !o.skipVerify }),
		},
	};
	if (endpoint) config.endpoint = endpoint;
	if (o.credentials) config.credentials = o.credentials;
	if (o.userAgent) config.customUserAgent = o.userAgent;
	return new S3Client(config);
}
