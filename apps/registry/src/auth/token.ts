import type { KeyObject, X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import {
	type CryptoKey,
	createRemoteJWKSet,
	errors,
	type JWK,
	type JWSHeaderParameters,
	type JWTPayload,
	jwtVerify,
} from "jose";
import { ConfigError } from "../config.js";
import {
	type AccessController,
	type AuthRequest,
	type AuthResult,
	type Grant,
	quote,
} from "./controller.js";
import { libtrustKeyId, parseCertificates, thumbprint, verifyChain } from "./keys.js";
import { type Access, type RequiredAccess, scopeParam } from "./scopes.js";

/**
 * The Docker Registry token flow: a client without a valid token is sent to `realm` with the
 * service and scope it needs; the token it brings back is a JWT signed by the token server, whose
 * `access` claim lists what it may do per repository.
 */

export interface TokenSettings {
	realm: string;
	/** Our name at the token server: the tokens' audience. */
	service: string;
	/** The token server's name: the tokens' issuer. */
	issuer: string;
	/** PEM file of the certificates whose keys sign tokens. */
	rootCertBundle?: string;
	/** A JWK set: a file, or an http(s) URL fetched (and refetched on an unknown kid). */
	jwks?: string;
	/** Realm = `<scheme>://<Host><autoRedirectPath>` of the request instead of `realm`. */
	autoRedirect: boolean;
	autoRedirectPath: string;
	signingAlgorithms: string[];
}

/** Clock skew tolerated on exp and nbf, as Distribution allows. */
const LEEWAY_SECONDS = 60;

/** Why a token was refused: a message safe to return (it never holds the token). */
export class TokenRejected extends Error {
	override name = "TokenRejected";
}

interface ResourceActions {
	type: string;
	name: string;
	actions: string[];
}

export class TokenController implements AccessController {
	readonly kind = "token";
	readonly #settings: TokenSettings;
	readonly #roots: X509Certificate[];
	/** kid or thumbprint → key. */
	readonly #keys: Map<string, KeyObject | JWK>;
	readonly #remote: ReturnType<typeof createRemoteJWKSet> | undefined;

	private constructor(
		settings: TokenSettings,
		roots: X509Certificate[],
		keys: Map<string, KeyObject | JWK>,
		remote: ReturnType<typeof createRemoteJWKSet> | undefined,
	) {
		this.#settings = settings;
		this.#roots = roots;
		this.#keys = keys;
		this.#remote = remote;
	}

	/** Load the trusted keys; a missing or empty key source stops start-up. */
	static async create(settings: TokenSettings): Promise<TokenController> {
		const keys = new Map<string, KeyObject | JWK>();
		let roots: X509Certificate[] = [];
		if (settings.rootCertBundle !== undefined) {
			const pem = await readKeyFile(settings.rootCertBundle, "auth.token.rootcertbundle");
			try {
				roots = parseCertificates(pem);
			} catch (err) {
				throw new ConfigError(
					`auth.token.rootcertbundle: ${settings.rootCertBundle}: ${(err as Error).message}`,
				);
			}
			if (roots.length === 0) {
				throw new ConfigError(
					`auth.token.rootcertbundle: ${settings.rootCertBundle} holds no PEM certificate`,
				);
			}
			for (const root of roots) {
				keys.set(await thumbprint(root.publicKey), root.publicKey);
				keys.set(libtrustKeyId(root.publicKey), root.publicKey);
			}
		}
		let remote: ReturnType<typeof createRemoteJWKSet> | undefined;
		if (settings.jwks !== undefined && /^https?:\/\//i.test(settings.jwks)) {
			remote = createRemoteJWKSet(new URL(settings.jwks), {
				cooldownDuration: 30_000,
				cacheMaxAge: 10 * 60_000,
			});
		} else if (settings.jwks !== undefined) {
			for (const jwk of parseJwks(await readKeyFile(settings.jwks, "auth.token.jwks"))) {
				if (typeof jwk.kid === "string") keys.set(jwk.kid, jwk);
				keys.set(await thumbprint(jwk), jwk);
			}
		}
		if (keys.size === 0 && !remote) {
			throw new ConfigError(
				"auth.token: at least one signing key is needed (rootcertbundle or jwks)",
			);
		}
		return new TokenController(settings, roots, keys, remote);
	}

	async authorize(request: AuthRequest, required: RequiredAccess): Promise<AuthResult> {
		const challenge = (error?: string) => this.#challenge(request, required, error);
		const m = /^bearer\s+(\S+)\s*$/i.exec(request.authorization ?? "");
		if (!m) {
			return {
				ok: false,
				reason: "missing",
				message: "authentication required",
				challenge: challenge(),
			};
		}
		let grant: Grant;
		try {
			grant = await this.verify(m[1] as string);
		} catch (err) {
			if (!(err instanceof TokenRejected)) throw err;
			return {
				ok: false,
				reason: "invalid",
				message: `invalid token: ${err.message}`,
				challenge: challenge("invalid_token"),
			};
		}
		if (!required.needed.every((access) => grant.allows(access))) {
			return {
				ok: false,
				reason: "insufficient",
				message: "the token does not grant the access this request needs",
				challenge: challenge("insufficient_scope"),
			};
		}
		return { ok: true, grant };
	}

	/** Verify a token and return what it grants; TokenRejected says why not. */
	async verify(token: string): Promise<Grant> {
		let payload: JWTPayload;
		try {
			({ payload } = await jwtVerify(token, (header) => this.#key(header), {
				issuer: this.#settings.issuer,
				audience: this.#settings.service,
				algorithms: this.#settings.signingAlgorithms,
				clockTolerance: LEEWAY_SECONDS,
				requiredClaims: ["exp"],
			}));
		} catch (err) {
			throw rejection(err);
		}
		return grantOf(payload);
	}

	/** The key a token header names: x5c, then jwk, then kid, as Distribution looks. */
	async #key(header: JWSHeaderParameters): Promise<KeyObject | JWK | CryptoKey> {
		if (header.x5c !== undefined) {
			if (this.#roots.length === 0) {
				throw new TokenRejected("x5c chains need auth.token.rootcertbundle");
			}
			try {
				return verifyChain(header.x5c, this.#roots);
			} catch (err) {
				throw new TokenRejected((err as Error).message);
			}
		}
		if (header.jwk !== undefined) {
			// An embedded key is only as good as its match with a key we already trust.
			let id: string;
			try {
				id = await thumbprint(header.jwk);
			} catch {
				throw new TokenRejected("malformed jwk header");
			}
			const key = this.#keys.get(id);
			if (!key) throw new TokenRejected("token signed by an untrusted key");
			return key;
		}
		if (typeof header.kid === "string" && header.kid !== "") {
			const key = this.#keys.get(header.kid);
			if (key) return key;
			if (this.#remote) return this.#remote(header);
			throw new TokenRejected("token signed by an untrusted key");
		}
		throw new TokenRejected("the token names no key (kid, jwk or x5c)");
	}

	#challenge(request: AuthRequest, required: RequiredAccess, error?: string): string {
		const params = [
			`realm=${quote(this.#realm(request))}`,
			`service=${quote(this.#settings.service)}`,
		];
		const scope = scopeParam([...required.needed, ...required.wanted]);
		if (scope !== "") params.push(`scope=${quote(scope)}`);
		if (error) params.push(`error=${quote(error)}`);
		return `Bearer ${params.join(",")}`;
	}

	#realm(request: AuthRequest): string {
		if (!this.#settings.autoRedirect || !request.host) return this.#settings.realm;
		const proto = request.forwardedProto?.split(",")[0]?.trim().toLowerCase();
		const scheme = proto === "http" || proto === "https" ? proto : "https";
		return `${scheme}://${request.host}${this.#settings.autoRedirectPath}`;
	}
}

async function readKeyFile(path: string, key: string): Promise<string> {
	try {
		return await readFile(path, "utf8");
	} catch (err) {
		throw new ConfigError(`${key}: cannot read ${path}: ${(err as Error).message}`);
	}
}

function parseJwks(text: string): JWK[] {
	let parsed: unknown;
	try {
		parsed = JSON.parse(text);
	} catch {
		throw new ConfigError("auth.token.jwks: not a JSON web key set");
	}
	const keys = (parsed as { keys?: unknown } | null)?.keys;
	if (!Array.isArray(keys)) throw new ConfigError('auth.token.jwks: expected {"keys": [...]}');
	// Only public parts: a private member (d, p, q...) in a trust store is a mistake, not a key.
	return keys.filter((k): k is JWK => typeof k === "object" && k !== null && !("d" in k));
}

/** What a verified payload's `access` claim grants. Malformed entries reject the token. */
export function grantOf(payload: JWTPayload): Grant {
	const access = payload.access ?? [];
	if (!Array.isArray(access)) throw new TokenRejected("malformed access claim");
	const granted = new Set<string>();
	for (const entry of access as ResourceActions[]) {
		const ok =
			typeof entry === "object" &&
			entry !== null &&
			typeof entry.type === "string" &&
			typeof entry.name === "string" &&
			Array.isArray(entry.actions) &&
			entry.actions.every((a) => typeof a === "string");
		if (!ok) throw new TokenRejected("malformed access claim");
		for (const action of entry.actions) granted.add(key(entry.type, entry.name, action));
	}
	return {
		...(typeof payload.sub === "string" ? { user: payload.sub } : {}),
		// `*` grants every action on its resource; resource names are matched exactly.
		allows: (a: Access) =>
			granted.has(key(a.type, a.name, "*")) || granted.has(key(a.type, a.name, a.action)),
	};
}

function key(type: string, name: string, action: string): string {
	return JSON.stringify([type, name, action]);
}

/** A verification failure as a reason a client may read; anything else is the server's fault. */
function rejection(err: unknown): Error {
	if (err instanceof TokenRejected) return err;
	if (err instanceof errors.JWTExpired) return new TokenRejected("token expired");
	if (err instanceof errors.JWTClaimValidationFailed) {
		if (err.reason === "missing") return new TokenRejected(`token lacks the "${err.claim}" claim`);
		switch (err.claim) {
			case "iss":
				return new TokenRejected("token issued by an untrusted issuer");
			case "aud":
				return new TokenRejected("token intended for another service");
			case "nbf":
				return new TokenRejected("token not valid yet");
			default:
				return new TokenRejected(`token claim "${err.claim}" is invalid`);
		}
	}
	if (err instanceof errors.JWSSignatureVerificationFailed) {
		return new TokenRejected("token signature does not verify");
	}
	if (err instanceof errors.JOSEAlgNotAllowed) {
		return new TokenRejected("token signing algorithm not allowed");
	}
	if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
		return new TokenRejected("token signed by an untrusted key");
	}
	if (
		err instanceof errors.JWSInvalid ||
		err instanceof errors.JWTInvalid ||
		err instanceof errors.JOSENotSupported ||
		err instanceof errors.JWKInvalid
	) {
		return new TokenRejected("malformed token");
	}
	// jose's answer to a key that does not fit the header's algorithm (an EC key, alg RS256).
	if (err instanceof TypeError) {
		return new TokenRejected("the token's algorithm does not fit its key");
	}
	// A JWKS URL that does not answer, and the like: not the client's fault.
	return err instanceof Error ? err : new Error(String(err));
}
