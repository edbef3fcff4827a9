import type { Access, RequiredAccess } from "./scopes.js";

/**
 * The contract between the HTTP layer and an access controller (htpasswd, token). A controller
 * says who the client is and what it may do, or why not and how to ask again (the challenge); the
 * gate turns that into responses, counts failed logins and keeps secrets out of the logs.
 */

/** What a controller sees of a request. */
export interface AuthRequest {
	/** The raw Authorization header; never logged. */
	readonly authorization: string | undefined;
	/** Host and X-Forwarded-Proto, for token auth's `autoredirect` realm. */
	readonly host: string | undefined;
	readonly forwardedProto: string | undefined;
}

/** What an authenticated client may do. */
export interface Grant {
	/** The user name (htpasswd) or the token's subject, for the logs. */
	readonly user?: string;
	allows(access: Access): boolean;
}

export type AuthResult =
	| { readonly ok: true; readonly grant: Grant }
	| {
			readonly ok: false;
			/**
			 * `missing`: no credentials of the expected kind (a client's first, probing request).
			 * `invalid`: credentials that failed: these count as failed logins.
			 * `insufficient`: a valid token without the access the request needs.
			 */
			readonly reason: "missing" | "invalid" | "insufficient";
			/** Safe to send and log: never contains the credentials. */
			readonly message: string;
			/** The WWW-Authenticate value. */
			readonly challenge: string;
	  };

export interface AccessController {
	/** "htpasswd" or "token", for the logs. */
	readonly kind: string;
	authorize(request: AuthRequest, required: RequiredAccess): Promise<AuthResult>;
}

/** Every access: no auth configured, or an htpasswd user (who may do anything, as in Distribution). */
export function grantAll(user?: string): Grant {
	return { ...(user !== undefined ? { user } : {}), allows: () => true };
}

/** An RFC 7230 quoted-string, for challenge parameters. */
export function quote(value: string): string {
	// Control characters cannot appear in a header; quotes and backslashes are escaped.
	// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point.
	const clean = value.replace(/[\x00-\x1f\x7f]/g, "");
	return `"${clean.replace(/["\\]/g, "\\$&")}"`;
}
