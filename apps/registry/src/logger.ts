import { type DestinationStream, type Logger, pino } from "pino";
import { LOG_REDACTION } from "./auth/redact.js";
import type { LogLevel } from "./config.js";

/**
 * JSON lines on stdout (or `destination`: the CLI's progress bar keeps its line below them);
 * `log.fields` are added to every line; credentials are redacted.
 */
export function createLogger(
	level: LogLevel,
	fields: Record<string, string> = {},
	destination?: DestinationStream,
): Logger {
	const options = {
		level,
		base: { pid: process.pid, ...fields },
		timestamp: pino.stdTimeFunctions.isoTime,
		redact: LOG_REDACTION,
	};
	return destination ? pino(options, destination) : pino(options);
}
