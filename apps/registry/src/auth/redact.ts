/**
 * Log redaction: credentials must never reach a log line, whatever object ends up logged (a
 * request, its headers, an error carrying them). pino replaces these paths with a marker.
 */
const SECRET_KEYS = ["authorization", "proxy-authorization", "password", "token", "secret"];

/** `.key`, or `["key"]` for a key that is not an identifier. */
const member = (key: string) => (/^\w+$/.test(key) ? `.${key}` : `["${key}"]`);

export const LOG_REDACTION = {
	paths: SECRET_KEYS.flatMap((key) => [
		member(key).replace(/^\./, ""),
		`*${member(key)}`,
		`headers${member(key)}`,
		`*.headers${member(key)}`,
		`*.*.headers${member(key)}`,
	]),
	censor: "[redacted]",
};
