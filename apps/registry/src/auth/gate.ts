import { validateRepositoryName } from "@stowage/core";
import type { FastifyRequest } from "fastify";
import { HttpError } from "../http/errors.js";
import type { OciRoute } from "../http/oci-path.js";
import { type AccessController, type Grant, grantAll } from "./controller.js";
import { FailureLimiter } from "./rate-limit.js";
import { requiredAccess } from "./scopes.js";

/**
 * Between the router and the handlers: works out what the request needs (the scope table), asks
 * the access controller, and answers 401 with the challenge, or 429 to an address with too many
 * failed logins. It runs before anything touches storage, so a refusal is the same whether or not
 * the repository exists.
 */
export interface AccessGate {
	readonly kind: string;
	/** The client's grant, or throws the 401/429 HttpError to answer with. */
	check(request: FastifyRequest, route: OciRoute, query: URLSearchParams): Promise<Grant>;
}

export interface GateOptions {
	/** Failed logins allowed per client address and window (default 10 per minute). */
	failures?: number;
	/** In ms. */
	window?: number;
}

/** No auth configured: everyone may do everything. */
export const OPEN_GRANT: Grant = grantAll();

export function createGate(controller: AccessController, options: GateOptions = {}): AccessGate {
	const limiter = new FailureLimiter({
		limit: options.failures ?? 10,
		window: options.window ?? 60_000,
	});
	return {
		kind: controller.kind,
		async check(request, route, query) {
			// A syntax check only (NAME_INVALID): it says nothing about what is stored.
			if ("name" in route) validateRepositoryName(route.name);
			const required = requiredAccess(route, request.method, query);
			const authorization = request.headers.authorization;
			if (authorization !== undefined) {
				const wait = limiter.retryAfter(request.ip);
				if (wait !== undefined) {
					throw new HttpError(
						429,
						"TOOMANYREQUESTS",
						"too many failed logins from this address; try again later",
						undefined,
						{ "Retry-After": String(wait) },
					);
				}
			}
			const forwarded = request.headers["x-forwarded-proto"];
			const result = await controller.authorize(
				{
					authorization,
					host: request.headers.host,
					forwardedProto: Array.isArray(forwarded) ? forwarded[0] : forwarded,
				},
				required,
			);
			if (result.ok) return result.grant;
			if (result.reason === "invalid") {
				limiter.fail(request.ip);
				request.log.warn(
					{ auth: controller.kind, remote: request.ip, reason: result.message },
					"failed login",
				);
			}
			const detail = required.needed.length > 0 ? required.needed : undefined;
			throw new HttpError(401, "UNAUTHORIZED", result.message, detail, {
				"WWW-Authenticate": result.challenge,
			});
		},
	};
}
