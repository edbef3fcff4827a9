import type { ServerResponse } from "node:http";

/**
 * An error answered in Google's JSON error format:
 * `{"error": {"code", "message", "errors": [{"message", "domain", "reason"}]}}`.
 */
export class GcsError extends Error {
	constructor(
		readonly status: number,
		readonly reason: string,
		message: string,
		readonly location?: { locationType: string; location: string },
	) {
		super(message);
	}

	toJSON(): unknown {
		return {
			error: {
				code: this.status,
				message: this.message,
				errors: [
					{ message: this.message, domain: "global", reason: this.reason, ...this.location },
				],
			},
		};
	}
}

export const noSuchObject = (bucket: string, name: string) =>
	new GcsError(404, "notFound", `No such object: ${bucket}/${name}`);

export const noSuchBucket = (bucket: string) =>
	new GcsError(404, "notFound", `The specified bucket does not exist: ${bucket}`);

export const preconditionFailed = (location = "If-Match") =>
	new GcsError(
		412,
		"conditionNotMet",
		"At least one of the pre-conditions you specified did not hold.",
		{ locationType: "header", location },
	);

export const badRequest = (message: string, reason = "invalid") =>
	new GcsError(400, reason, message);

export const required = (what: string) => new GcsError(400, "required", `Required: ${what}`);

export function sendJsonError(res: ServerResponse, err: GcsError): void {
	const body = JSON.stringify(err.toJSON());
	res.writeHead(err.status, {
		"content-type": "application/json; charset=UTF-8",
		"content-length": Buffer.byteLength(body),
	});
	res.end(body);
}

/** The XML API (where signed URLs live) answers errors as `<Error><Code>…</Code>…</Error>`. */
export class XmlError extends Error {
	constructor(
		readonly status: number,
		readonly code: string,
		message: string,
		readonly details: Record<string, string> = {},
	) {
		super(message);
	}
}

const escapeXml = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

export function sendXmlError(res: ServerResponse, err: XmlError, head = false): void {
	const extra = Object.entries(err.details)
		.map(([k, v]) => `<${k}>${escapeXml(v)}</${k}>`)
		.join("");
	const body = `<?xml version='1.0' encoding='UTF-8'?><Error><Code>${err.code}</Code><Message>${escapeXml(err.message)}</Message>${extra}</Error>`;
	res.writeHead(err.status, {
		"content-type": "application/xml; charset=UTF-8",
		"content-length": Buffer.byteLength(body),
	});
	res.end(head ? undefined : body);
}
