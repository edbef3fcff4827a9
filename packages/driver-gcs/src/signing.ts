import { createHash, createPrivateKey, type KeyObject, sign } from "node:crypto";
import type { Storage } from "@google-cloud/storage";

/** What signs a V4 URL: the service account's email and an RSA-SHA256 signing function. */
export interface UrlSigner {
	email(): Promise<string>;
	sign(stringToSign: string): Promise<Buffer>;
}

/** Sign locally with a service-account private key. */
export function keySigner(clientEmail: string, privateKey: string): UrlSigner {
	const key: KeyObject = createPrivateKey(privateKey);
	return {
		email: async () => clientEmail,
		sign: async (s) => sign("sha256", Buffer.from(s), key),
	};
}

/** Sign through the client's auth (a key it loaded, or IAM signBlob for other credentials). */
export function clientSigner(storage: Storage): UrlSigner {
	return {
		email: async () => {
			const creds = await storage.authClient.getCredentials();
			if (!creds.client_email)
				throw new Error("the client's credentials have no client_email to sign with");
			return creds.client_email;
		},
		sign: async (s) => Buffer.from(await storage.authClient.sign(s), "base64"),
	};
}

/** RFC 3986 percent-encoding (V4 canonical form). */
function encode(s: string): string {
	return encodeURIComponent(s).replace(
		/[!'()*]/g,
		(c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
	);
}

function googDate(d: Date): string {
	return d
		.toISOString()
		.replace(/[-:]/g, "")
		.replace(/\.\d{3}/, "");
}

/**
 * A V4 signed URL (GOOG4-RSA-SHA256) for one object and one method, from Google's documented
 * algorithm: canonical request (verb, path-style resource, sorted query, `host` as the only
 * signed header, UNSIGNED-PAYLOAD), its SHA-256 in the string to sign, an RSA-SHA256 signature
 * in hex. GET and HEAD need URLs of their own: the verb is part of the signature.
 */
export async function signedUrl(
	signer: UrlSigner,
	endpoint: string,
	bucket: string,
	object: string,
	method: "GET" | "HEAD",
	expiresIn: number,
	now = new Date(),
): Promise<string> {
	const origin = new URL(endpoint);
	const date = googDate(now);
	const scope = `${date.slice(0, 8)}/auto/storage/goog4_request`;
	const path = `/${encode(bucket)}/${object.split("/").map(encode).join("/")}`;
	const query: [string, string][] = [
		["X-Goog-Algorithm", "GOOG4-RSA-SHA256"],
		["X-Goog-Credential", `${await signer.email()}/${scope}`],
		["X-Goog-Date", date],
		["X-Goog-Expires", String(expiresIn)],
		["X-Goog-SignedHeaders", "host"],
	];
	const canonicalQuery = query
		.map(([k, v]) => `${encode(k)}=${encode(v)}`)
		.sort()
		.join("&");
	// Google's clients sign the bare hostname (no port); so does this.
	const canonicalRequest = [
		method,
		path,
		canonicalQuery,
		`host:${origin.hostname}\n`,
		"host",
		"UNSIGNED-PAYLOAD",
	].join("\n");
	const stringToSign = [
		"GOOG4-RSA-SHA256",
		date,
		scope,
		createHash("sha256").update(canonicalRequest).digest("hex"),
	].join("\n");
	const signature = (await signer.sign(stringToSign)).toString("hex");
	return `${origin.origin}${path}?${canonicalQuery}&X-Goog-Signature=${signature}`;
}
