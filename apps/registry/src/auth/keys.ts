import { createHash, type KeyObject, X509Certificate } from "node:crypto";
import { calculateJwkThumbprint, type JWK } from "jose";

/**
 * The keys a token may be signed with, as Distribution finds them: the public keys of the root
 * certificates (`rootcertbundle`) and the keys of a JWK set (`jwks`). A token names its key by
 * `kid` (an RFC 7638 thumbprint, a libtrust key id as older token servers write, or a JWKS key
 * id), by an embedded `jwk` whose thumbprint is trusted, or by an `x5c` chain that leads to one
 * of the root certificates.
 */

/** Every CERTIFICATE block of a PEM bundle. */
export function parseCertificates(pem: string): X509Certificate[] {
	const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
	return blocks.map((block) => new X509Certificate(block));
}

/** The key id libtrust (docker_auth and other older token servers) puts in `kid`. */
export function libtrustKeyId(key: KeyObject): string {
	const der = key.export({ type: "spki", format: "der" });
	const digest = createHash("sha256").update(der).digest().subarray(0, 30);
	return base32(digest).match(/.{4}/g)?.join(":") ?? "";
}

/** RFC 7638 thumbprint (SHA-256) of a public key. */
export async function thumbprint(key: KeyObject | JWK): Promise<string> {
	const jwk = "export" in key ? (key.export({ format: "jwk" }) as JWK) : key;
	return calculateJwkThumbprint(jwk, "sha256");
}

function base32(bytes: Uint8Array): string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	let bits = 0;
	let value = 0;
	let out = "";
	for (const byte of bytes) {
		value = (value << 8) | byte;
		bits += 8;
		while (bits >= 5) {
			out += alphabet[(value >>> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
	return out;
}

/**
 * The leaf's public key of an `x5c` chain (base64 DER, leaf first) that leads to one of `roots`,
 * every certificate on the way within its validity period. Throws when it does not.
 */
export function verifyChain(x5c: unknown, roots: readonly X509Certificate[], now = new Date()) {
	if (!Array.isArray(x5c) || x5c.length === 0 || x5c.length > 10) {
		throw new Error("malformed x5c header");
	}
	const chain = x5c.map((entry) => {
		if (typeof entry !== "string") throw new Error("malformed x5c header");
		return new X509Certificate(Buffer.from(entry, "base64"));
	});
	const current = (cert: X509Certificate) =>
		new Date(cert.validFrom) <= now && now <= new Date(cert.validTo);
	const signs = (issuer: X509Certificate, cert: X509Certificate) =>
		cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
	const leaf = chain[0] as X509Certificate;
	let cert = leaf;
	const intermediates = chain.slice(1);
	for (let depth = 0; depth <= intermediates.length; depth++) {
		if (!current(cert)) throw new Error("a certificate of the x5c chain has expired");
		if (roots.some((root) => root.fingerprint256 === cert.fingerprint256 && current(root))) {
			return leaf.publicKey;
		}
		const root = roots.find((r) => current(r) && signs(r, cert));
		if (root) return leaf.publicKey;
		const next = intermediates.find((i) => i.ca && signs(i, cert));
		if (!next) break;
		cert = next;
	}
	throw new Error("the x5c chain does not lead to a trusted root certificate");
}
