import { type Logger, pino } from "pino";
import type { LogLevel } from "./config.js";

/** JSON lines on stdout; `log.fields` are added to every line. */
export function createLogger(level: LogLevel, fields: Record<string, string> = {}): Logger {
	return pino({
		level,
		base: { pid: process.pid, ...fields },
		timestamp: pino.stdTimeFunctions.isoTime,
	});
}
