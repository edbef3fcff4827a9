import { DigestInvalidError, UnsupportedDigestError } from "./errors/registry-errors.js";

export type DigestAlgorithm = "sha256" | "sha512";

/** Hex length of each supported algorithm's encoded digest. */
const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };

/** The OCI digest grammar: algorithm-component ([+._-] separators) ":" encoded. */
const GRAMMAR = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export interface ParsedDigest {
	readonly algorithm: DigestAlgorithm;
	readonly hex: string;
	/** `<algorithm>:<hex>` */
	readonly digest: string;
}

/**
 * Validate a digest. A string outside the OCI grammar, or a supported algorithm with a wrong
 * encoding, is DigestInvalidError; a well-formed digest of another algorithm is
 * UnsupportedDigestError.
 */
export function parseDigest(digest: string): ParsedDigest {
	if (typeof digest !== "string" || digest.length > 256 || !GRAMMAR.test(digest)) {
		throw new DigestInvalidError(String(digest));
	}
	const colon = digest.indexOf(":");
	const algorithm = digest.slice(0, colon);
	const hex = digest.slice(colon + 1);
	if (algorithm !== "sha256" && algorithm !== "sha512") {
		throw new UnsupportedDigestError(digest, algorithm);
	}
	if (hex.length !== HEX_LENGTH[algorithm] || !/^[a-f0-9]+$/.test(hex)) {
		throw new DigestInvalidError(digest, `invalid ${algorithm} encoding`);
	}
	return { algorithm, hex, digest };
}

export function isDigest(value: string): boolean {
	try {
		parseDigest(value);
		return true;
	} catch {
		return false;
	}
}
