import { resolve } from "node:path";
import type { HtpasswdSettings } from "./auth/htpasswd.js";
import type { TokenSettings } from "./auth/token.js";

/**
 * The `auth` and `http.tls` sections, after config.ts has checked every key's type: what is
 * left are the rules between keys (exactly one auth method, a key with a certificate...). Paths
 * are resolved against the working directory, as the filesystem root is.
 */

export interface AuthSettings {
	htpasswd?: HtpasswdSettings;
	token?: TokenSettings;
	/** `auth.ratelimit` (a Stowage extension): failed logins allowed per address and window. */
	failures: number;
	/** In ms. */
	window: number;
}

export type ClientAuth = "require-and-verify-client-cert" | "verify-client-cert-if-given";

export interface TlsSettings {
	certificate: string;
	key: string;
	/** CA certificates client certificates must chain to; none means no client certificates. */
	clientCAs: string[];
	clientAuth: ClientAuth;
	minimumTls: "TLSv1.2" | "TLSv1.3";
}

export interface SectionTools {
	/** The value at a path, keys matched case-insensitively; undefined when absent. */
	get(...path: string[]): unknown;
	/** Stop start-up with this message. */
	fail(message: string): never;
	/** A checked duration string in ms. */
	duration(value: unknown, fallback: string): number;
}

/** Asymmetric algorithms only: every trusted key is a public key. */
export const DEFAULT_ALGORITHMS = [
	"RS256",
	"RS384",
	"RS512",
	"PS256",
	"PS384",
	"PS512",
	"ES256",
	"ES384",
	"ES512",
	"EdDSA",
	"Ed25519",
];

const AUTH_METHODS = ["htpasswd", "token"] as const;

export function authSettings({ get, fail, duration }: SectionTools): AuthSettings | undefined {
	if (get("auth") === undefined || get("auth") === null) return undefined;
	const methods = AUTH_METHODS.filter((m) => get("auth", m) !== undefined);
	if (methods.length !== 1) {
		fail(
			methods.length === 0
				? "auth: configure one of auth.htpasswd or auth.token"
				: "auth: configure one of auth.htpasswd or auth.token, not both",
		);
	}
	const str = (...path: string[]) => {
		const value = get("auth", ...path);
		return typeof value === "string" && value !== "" ? value : undefined;
	};
	const need = (...path: string[]) => str(...path) ?? fail(`auth.${path.join(".")} is required`);
	const failures = get("auth", "ratelimit", "failures");
	const settings: AuthSettings = {
		failures: typeof failures === "number" ? failures : 10,
		window: duration(get("auth", "ratelimit", "window"), "1m"),
	};
	if (methods[0] === "htpasswd") {
		settings.htpasswd = {
			realm: need("htpasswd", "realm"),
			path: resolve(need("htpasswd", "path")),
		};
		return settings;
	}
	const rootCertBundle = str("token", "rootcertbundle");
	const jwks = str("token", "jwks");
	if (rootCertBundle === undefined && jwks === undefined) {
		fail("auth.token: rootcertbundle or jwks is required (the keys that sign tokens)");
	}
	const algorithms = get("auth", "token", "signingalgorithms");
	settings.token = {
		realm: need("token", "realm"),
		service: need("token", "service"),
		issuer: need("token", "issuer"),
		...(rootCertBundle !== undefined ? { rootCertBundle: resolve(rootCertBundle) } : {}),
		...(jwks !== undefined ? { jwks: /^https?:\/\//i.test(jwks) ? jwks : resolve(jwks) } : {}),
		autoRedirect: get("auth", "token", "autoredirect") === true,
		autoRedirectPath: str("token", "autoredirectpath") ?? "/auth/token",
		signingAlgorithms: Array.isArray(algorithms) ? (algorithms as string[]) : DEFAULT_ALGORITHMS,
	};
	for (const alg of settings.token.signingAlgorithms) {
		if (!DEFAULT_ALGORITHMS.includes(alg)) {
			fail(
				`auth.token.signingalgorithms: ${JSON.stringify(alg)} is not supported; ` +
					`use ${DEFAULT_ALGORITHMS.join(", ")}`,
			);
		}
	}
	if (!settings.token.autoRedirectPath.startsWith("/")) {
		fail("auth.token.autoredirectpath: expected a path starting with /");
	}
	return settings;
}

export function tlsSettings({ get, fail }: SectionTools): TlsSettings | undefined {
	const tls = get("http", "tls");
	if (tls === undefined || tls === null) return undefined;
	const str = (key: string) => {
		const value = get("http", "tls", key);
		return typeof value === "string" && value !== "" ? value : undefined;
	};
	const certificate = str("certificate") ?? fail("http.tls.certificate is required");
	const key = str("key") ?? fail("http.tls.key is required");
	const clientCAs = (get("http", "tls", "clientcas") as string[] | undefined) ?? [];
	const clientAuth = (str("clientauth") ?? "require-and-verify-client-cert") as ClientAuth;
	if (!["require-and-verify-client-cert", "verify-client-cert-if-given"].includes(clientAuth)) {
		fail(
			"http.tls.clientauth: expected require-and-verify-client-cert or " +
				`verify-client-cert-if-given, got ${JSON.stringify(clientAuth)}`,
		);
	}
	const minimum = (str("minimumtls") ?? "tls1.2").toLowerCase();
	if (minimum !== "tls1.2" && minimum !== "tls1.3") {
		fail(`http.tls.minimumtls: expected tls1.2 or tls1.3, got ${JSON.stringify(minimum)}`);
	}
	return {
		certificate: resolve(certificate),
		key: resolve(key),
		clientCAs: clientCAs.map((p) => resolve(p)),
		clientAuth,
		minimumTls: minimum === "tls1.3" ? "TLSv1.3" : "TLSv1.2",
	};
}
