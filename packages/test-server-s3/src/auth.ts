import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { sha256Hex } from "./checksums.js";
import { errors, S3Error } from "./errors.js";

/** What a verified request tells the body decoder (aws-chunked chunks chain on the signature). */
export interface Authenticated {
	kind: "header" | "presigned";
	/** The `x-amz-content-sha256` value: a hex digest, UNSIGNED-PAYLOAD or a STREAMING-* mode. */
	payloadHash: string;
	amzDate: string;
	scope: string;
	signingKey: Buffer;
	signature: string;
}

export interface Credentials {
	accessKeyId: string;
	secretAccessKey: string;
	region: string;
	/** Allowed clock difference for header-signed requests (AWS: 15 minutes). */
	maxSkewMs: number;
}

export interface SignedRequest {
	method: string;
	/** The path exactly as sent: S3 signs the already-encoded path, without normalising it. */
	rawPath: string;
	rawQuery: string;
	headers: IncomingHttpHeaders;
}

const ALGORITHM = "AWS4-HMAC-SHA256";
const MAX_PRESIGNED_EXPIRY = 7 * 24 * 3600;

/** Verify SigV4 from the Authorization header or from presigned query parameters. */
export function authenticate(
	req: SignedRequest,
	creds: Credentials,
	now = new Date(),
): Authenticated {
	const query = parseRawQuery(req.rawQuery);
	const header = req.headers.authorization;
	const presigned = query.some(([k]) => k === "X-Amz-Algorithm");
	if (header !== undefined && presigned) {
		throw errors.invalidArgument(
			"Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified",
			"Authorization",
			header,
		);
	}
	if (presigned) return verifyPresigned(req, query, creds, now);
	if (header === undefined) throw errors.accessDenied("Anonymous access is not allowed");
	return verifyHeader(req, header, query, creds, now);
}

function verifyHeader(
	req: SignedRequest,
	header: string,
	query: [string, string][],
	creds: Credentials,
	now: Date,
): Authenticated {
	const m =
		/^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/.exec(
			header.trim(),
		);
	if (!m) {
		throw errors.authorizationHeaderMalformed(`The authorization header is malformed: ${header}`);
	}
	const [, credential, signedHeaderList, signature] = m as unknown as [
		string,
		string,
		string,
		string,
	];
	const amzDate = headerValue(req.headers, "x-amz-date");
	if (!amzDate || !/^\d{8}T\d{6}Z$/.test(amzDate)) {
		throw errors.accessDenied("AWS authentication requires a valid Date or x-amz-date header");
	}
	if (Math.abs(parseAmzDate(amzDate).getTime() - now.getTime()) > creds.maxSkewMs) {
		throw errors.requestTimeTooSkewed();
	}
	const scope = checkCredential(credential, amzDate, creds, "header");
	const signedHeaders = signedHeaderNames(signedHeaderList);
	for (const name of Object.keys(req.headers)) {
		if (name.startsWith("x-amz-") && !signedHeaders.includes(name)) {
			throw errors.accessDenied(
				`There were headers present in the request which were not signed: ${name}`,
			);
		}
	}
	const payloadHash = headerValue(req.headers, "x-amz-content-sha256");
	if (payloadHash === undefined) {
		throw errors.invalidRequest("Missing required header for this request: x-amz-content-sha256");
	}
	if (
		!/^[0-9a-f]{64}$/.test(payloadHash) &&
		payloadHash !== "UNSIGNED-PAYLOAD" &&
		!payloadHash.startsWith("STREAMING-")
	) {
		throw errors.invalidArgument(
			"x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-... or a valid sha256 value.",
			"x-amz-content-sha256",
			payloadHash,
		);
	}
	const canonical = canonicalRequest(req, query, signedHeaders, payloadHash);
	const signingKey = deriveKey(creds.secretAccessKey, amzDate.slice(0, 8), creds.region);
	checkSignature(canonical, amzDate, scope, signingKey, signature);
	return { kind: "header", payloadHash, amzDate, scope, signingKey, signature };
}

function verifyPresigned(
	req: SignedRequest,
	query: [string, string][],
	creds: Credentials,
	now: Date,
): Authenticated {
	const param = (name: string): string => {
		const found = query.filter(([k]) => k === name);
		if (found.length !== 1) {
			throw new S3Error(
				"AuthorizationQueryParametersError",
				400,
				`Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters (${name}).`,
			);
		}
		return (found[0] as [string, string])[1];
	};
	if (param("X-Amz-Algorithm") !== ALGORITHM) {
		throw new S3Error(
			"AuthorizationQueryParametersError",
			400,
			'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"',
		);
	}
	const amzDate = param("X-Amz-Date");
	if (!/^\d{8}T\d{6}Z$/.test(amzDate)) {
		throw new S3Error(
			"AuthorizationQueryParametersError",
			400,
			"X-Amz-Date must be in the ISO8601 Long Format",
		);
	}
	const expiresRaw = param("X-Amz-Expires");
	const expires = Number(expiresRaw);
	if (!/^\d+$/.test(expiresRaw) || expires < 1 || expires > MAX_PRESIGNED_EXPIRY) {
		throw new S3Error(
			"AuthorizationQueryParametersError",
			400,
			"X-Amz-Expires must be between 1 and 604800 seconds",
		);
	}
	const scope = checkCredential(param("X-Amz-Credential"), amzDate, creds, "query");
	const signature = param("X-Amz-Signature");
	const signedHeaders = signedHeaderNames(param("X-Amz-SignedHeaders"));
	const signedAt = parseAmzDate(amzDate).getTime();
	if (signedAt - now.getTime() > creds.maxSkewMs) {
		throw errors.accessDenied("Request is not valid yet");
	}
	const unsigned = query.filter(([k]) => k !== "X-Amz-Signature");
	const payloadHash = query.find(([k]) => k === "X-Amz-Content-Sha256")?.[1] ?? "UNSIGNED-PAYLOAD";
	const canonical = canonicalRequest(req, unsigned, signedHeaders, payloadHash);
	const signingKey = deriveKey(creds.secretAccessKey, amzDate.slice(0, 8), creds.region);
	checkSignature(canonical, amzDate, scope, signingKey, signature);
	// Checked after the signature, as S3 does: a tampered URL is a signature error, not an expiry.
	if (now.getTime() > signedAt + expires * 1000) {
		throw new S3Error("AccessDenied", 403, "Request has expired", {
			"X-Amz-Expires": expires,
			Expires: new Date(signedAt + expires * 1000).toISOString(),
			ServerTime: now.toISOString(),
		});
	}
	return { kind: "presigned", payloadHash, amzDate, scope, signingKey, signature };
}

/** `AKID/yyyymmdd/region/s3/aws4_request`, checked against the request date and this server. */
function checkCredential(
	credential: string,
	amzDate: string,
	creds: Credentials,
	where: "header" | "query",
): string {
	const parts = credential.split("/");
	const malformed = (message: string) =>
		where === "header"
			? errors.authorizationHeaderMalformed(message)
			: new S3Error("AuthorizationQueryParametersError", 400, message);
	if (parts.length !== 5) throw malformed(`The credential is malformed: ${credential}`);
	const [keyId, date, region, service, terminal] = parts as [
		string,
		string,
		string,
		string,
		string,
	];
	if (keyId !== creds.accessKeyId) throw errors.invalidAccessKeyId(keyId);
	if (date !== amzDate.slice(0, 8))
		throw malformed(`The credential date ${date} does not match the request date ${amzDate}`);
	if (region !== creds.region)
		throw malformed(`The region '${region}' is wrong; expecting '${creds.region}'`);
	if (service !== "s3" || terminal !== "aws4_request")
		throw malformed(`The credential scope is invalid: ${credential}`);
	return `${date}/${region}/${service}/${terminal}`;
}

function signedHeaderNames(list: string): string[] {
	const names = list.split(";");
	if (!names.includes("host")) throw errors.accessDenied("The host header must be signed");
	return names;
}

function canonicalRequest(
	req: SignedRequest,
	query: [string, string][],
	signedHeaders: string[],
	payloadHash: string,
): string {
	const canonicalQuery = query
		.map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
		.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
		.map(([k, v]) => `${k}=${v}`)
		.join("&");
	const canonicalHeaders = signedHeaders
		.map((name) => {
			const raw = req.headers[name];
			const value = Array.isArray(raw) ? raw.join(",") : (raw ?? "");
			return `${name}:${value.trim().replace(/\s+/g, " ")}\n`;
		})
		.join("");
	return [
		req.method,
		req.rawPath,
		canonicalQuery,
		canonicalHeaders,
		signedHeaders.join(";"),
		payloadHash,
	].join("\n");
}

function checkSignature(
	canonical: string,
	amzDate: string,
	scope: string,
	signingKey: Buffer,
	signature: string,
): void {
	const stringToSign = [ALGORITHM, amzDate, scope, sha256Hex(canonical)].join("\n");
	const expected = hmac(signingKey, stringToSign).toString("hex");
	if (!safeEqual(expected, signature)) {
		throw errors.signatureDoesNotMatch({ StringToSign: stringToSign, CanonicalRequest: canonical });
	}
}

/** Verify one aws-chunked chunk signature; returns it as the next chunk's previous signature. */
export function verifyChunkSignature(
	auth: Authenticated,
	previous: string,
	chunk: Buffer,
	signature: string,
): string {
	const stringToSign = [
		"AWS4-HMAC-SHA256-PAYLOAD",
		auth.amzDate,
		auth.scope,
		previous,
		sha256Hex(""),
		sha256Hex(chunk),
	].join("\n");
	const expected = hmac(auth.signingKey, stringToSign).toString("hex");
	if (!safeEqual(expected, signature)) {
		throw errors.signatureDoesNotMatch({ StringToSign: stringToSign });
	}
	return signature;
}

/** Verify the trailer signature of a STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER body. */
export function verifyTrailerSignature(
	auth: Authenticated,
	previous: string,
	canonicalTrailers: string,
	signature: string,
): void {
	const stringToSign = [
		"AWS4-HMAC-SHA256-TRAILER",
		auth.amzDate,
		auth.scope,
		previous,
		sha256Hex(canonicalTrailers),
	].join("\n");
	const expected = hmac(auth.signingKey, stringToSign).toString("hex");
	if (!safeEqual(expected, signature)) {
		throw errors.signatureDoesNotMatch({ StringToSign: stringToSign });
	}
}

export function deriveKey(secret: string, date: string, region: string): Buffer {
	const kDate = hmac(`AWS4${secret}`, date);
	const kRegion = hmac(kDate, region);
	const kService = hmac(kRegion, "s3");
	return hmac(kService, "aws4_request");
}

function hmac(key: string | Buffer, data: string): Buffer {
	return createHmac("sha256", key).update(data, "utf8").digest();
}

function safeEqual(a: string, b: string): boolean {
	const x = Buffer.from(a);
	const y = Buffer.from(b);
	return x.length === y.length && timingSafeEqual(x, y);
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
	const v = headers[name];
	return Array.isArray(v) ? v.join(",") : v;
}

function parseAmzDate(value: string): Date {
	return new Date(
		`${value.slice(0, 4)}-${value.slice(4, 6)}-${value.slice(6, 8)}T${value.slice(9, 11)}:${value.slice(11, 13)}:${value.slice(13, 15)}Z`,
	);
}

/** Decoded query pairs in order; a malformed escape is a client error. */
export function parseRawQuery(raw: string): [string, string][] {
	if (raw === "") return [];
	return raw.split("&").map((pair) => {
		const eq = pair.indexOf("=");
		const k = eq < 0 ? pair : pair.slice(0, eq);
		const v = eq < 0 ? "" : pair.slice(eq + 1);
		try {
			return [decodeURIComponent(k), decodeURIComponent(v)];
		} catch {
			throw errors.invalidArgument("Malformed query string", "query", pair);
		}
	});
}

/** SigV4's URI encoding: everything but unreserved characters, in upper-case hex. */
export function rfc3986(value: string): string {
	return encodeURIComponent(value).replace(
		/[!'()*]/g,
		(c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
	);
}
