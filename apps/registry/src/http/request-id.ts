import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { OciErrorResponse } from "./errors.js";

/** What an incoming X-Request-Id may be to be kept: short, printable, no separators to forge. */
const SANE_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/**
 * The request id: the caller's X-Request-Id when it is sane (a proxy or client tracing a request
 * across systems), else a fresh UUID. It goes into every log line of the request, the response's
 * X-Request-Id header and every error body.
 */
export function requestId(request: IncomingMessage): string {
	const incoming = request.headers["x-request-id"];
	return typeof incoming === "string" && SANE_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * The error body with the request id in each entry's `detail`, the one free-form member of the
 * OCI error envelope: an object detail gains a `requestId` member, anything else is kept under
 * `value` beside it.
 */
export function withRequestId(
	body: OciErrorResponse["body"],
	id: string,
): OciErrorResponse["body"] {
	return {
		errors: body.errors.map((e) => {
			const detail = e.detail;
			if (detail === undefined) return { ...e, detail: { requestId: id } };
			if (typeof detail === "object" && detail !== null && !Array.isArray(detail)) {
				return { ...e, detail: { ...detail, requestId: id } };
			}
			return { ...e, detail: { value: detail, requestId: id } };
		}),
	};
}
