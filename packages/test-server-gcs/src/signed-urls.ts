import { createHash, createPublicKey, type KeyObject, verify } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { XmlError } from "./errors.js";

/** A service account whose V4 signatures the server accepts. */
export interface ServiceAccountKey {
	client_email: string;
	/** PEM public key, or the account's private key (its public half is derived). */
	key: string | KeyObject;
}

const MAX_EXPIRES = 7 * 24 * 60 * 60;

/** RFC 3986 percent-encoding, as V4 canonical query strings use. */
function encodeRfc3986(s: string): string {
	return encodeURIComponent(s).replace(
		/[!'()*]/g,
		(c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
	);
}

/** `20240102T030405Z` → epoch ms. */
function parseGoogDate(s: string): number | undefined {
	const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
	if (!m) return undefined;
	const [, y, mo, d, h, mi, se] = m.map(Number) as number[];
	return Date.UTC(y as number, (mo as number) - 1, d, h, mi, se);
}

/**
 * Verify a V4 signed URL (GOOG4-RSA-SHA256) as GCS's XML API does: rebuild the canonical request
 * from the actual request (verb, path, every query parameter but the signature, the signed
 * headers, UNSIGNED-PAYLOAD unless x-goog-content-sha256 is signed), hash it into the string to
 * sign, and check the RSA-SHA256 signature with the account's public key. Expired → 400
 * ExpiredToken; malformed → 400; unknown account or a wrong signature → 403.
 *
 * One deviation: the canonical `host` drops the port, because clients (Google's SDKs included)
 * sign the bare hostname of an endpoint like http://127.0.0.1:<port>.
 */
export function verifySignedUrl(
	req: IncomingMessage,
	rawPath: string,
	query: URLSearchParams,
	keys: ReadonlyMap<string, KeyObject>,
	now = Date.now(),
): void {
	const param = (name: string) => {
		const v = query.get(name);
		if (v === null) {
			throw new XmlError(400, "MalformedSecurityHeader", "Your request has a malformed header.", {
				ParameterName: name,
				Details: `Missing ${name}`,
			});
		}
		return v;
	};
	const algorithm = param("X-Goog-Algorithm");
	if (algorithm !== "GOOG4-RSA-SHA256") {
		throw new XmlError(400, "InvalidArgument", `Unsupported algorithm: ${algorithm}`);
	}
	const credential = param("X-Goog-Credential");
	const date = param("X-Goog-Date");
	const expires = param("X-Goog-Expires");
	const signedHeaders = param("X-Goog-SignedHeaders");
	const signature = param("X-Goog-Signature");

	const [email, ...scopeParts] = credential.split("/");
	const scope = scopeParts.join("/");
	const start = parseGoogDate(date);
	if (
		!email ||
		scopeParts.length !== 4 ||
		scopeParts[0] !== date.slice(0, 8) ||
		scopeParts[2] !== "storage" ||
		scopeParts[3] !== "goog4_request" ||
		start === undefined
	) {
		throw new XmlError(400, "MalformedSecurityHeader", "Your request has a malformed header.", {
			ParameterName: "X-Goog-Credential",
		});
	}
	const lifetime = Number(expires);
	if (!/^\d+$/.test(expires) || lifetime < 1 || lifetime > MAX_EXPIRES) {
		throw new XmlError(400, "MalformedSecurityHeader", "Your request has a malformed header.", {
			ParameterName: "X-Goog-Expires",
			Details: `X-Goog-Expires must be between 1 and ${MAX_EXPIRES}.`,
		});
	}
	if (now > start + lifetime * 1000) {
		throw new XmlError(400, "ExpiredToken", "The provided token has expired.", {
			Details: `Request signature expired at: ${new Date(start + lifetime * 1000).toISOString()}`,
		});
	}
	const key = keys.get(email);
	if (!key) {
		throw new XmlError(403, "AccessDenied", `Access denied: unknown signer ${email}.`);
	}

	const names = signedHeaders.split(";");
	if (!names.includes("host")) {
		throw new XmlError(400, "MalformedSecurityHeader", "host must be a signed header.", {
			ParameterName: "X-Goog-SignedHeaders",
		});
	}
	const headerLines = names.map((n) => {
		let v = req.headers[n];
		if (n === "host" && typeof v === "string") v = v.replace(/:\d+$/, "");
		const value = Array.isArray(v) ? v.join(",") : (v ?? "");
		return `${n}:${value.trim().replace(/\s+/g, " ")}\n`;
	});
	const canonicalQuery = [...query.entries()]
		.filter(([k]) => k !== "X-Goog-Signature")
		.map(([k, v]) => [encodeRfc3986(k), encodeRfc3986(v)] as const)
		.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
		.map(([k, v]) => `${k}=${v}`)
		.join("&");
	const payload =
		names.includes("x-goog-content-sha256") &&
		typeof req.headers["x-goog-content-sha256"] === "string"
			? req.headers["x-goog-content-sha256"]
			: "UNSIGNED-PAYLOAD";
	const canonicalRequest = [
		req.method ?? "GET",
		rawPath,
		canonicalQuery,
		headerLines.join(""),
		signedHeaders,
		payload,
	].join("\n");
	const stringToSign = [
		"GOOG4-RSA-SHA256",
		date,
		scope,
		createHash("sha256").update(canonicalRequest).digest("hex"),
	].join("\n");
	const ok =
		/^[0-9a-f]+$/i.test(signature) &&
		verify("sha256", Buffer.from(stringToSign), key, Buffer.from(signature, "hex"));
	if (!ok) {
		throw new XmlError(
			403,
			"SignatureDoesNotMatch",
			"Access denied. The request signature we calculated does not match the signature you provided. Check your Google secret key and signing method.",
			{ StringToSign: stringToSign, CanonicalRequest: canonicalRequest },
		);
	}
}

export function publicKeyOf(key: string | KeyObject): KeyObject {
	return typeof key !== "string" && key.type === "public" ? key : createPublicKey(key);
}
