/**
 * Operations the server distinguishes, for fault injection and the request log. Names follow the
 * JSON API's methods; resumable uploads are split into their steps.
 */
export type Operation =
	| "buckets.insert"
	| "buckets.get"
	| "buckets.delete"
	| "objects.list"
	| "objects.get"
	| "objects.media"
	| "objects.insert"
	| "objects.delete"
	| "objects.copy"
	| "objects.rewrite"
	| "objects.compose"
	| "resumable.start"
	| "resumable.put"
	| "resumable.cancel"
	| "signed.get"
	| "control"
	| "unknown";

/**
 * One injected failure, consumed by the next `times` requests of `op` ("*" for any):
 * - `status`: answer with this HTTP status (429, 503...) in Google's error format, doing nothing;
 * - `reset`: destroy the connection before doing anything;
 * - `loseResponse`: do the work, then destroy the connection instead of answering (the client
 *   cannot know it succeeded: what a timeout after a server-side commit looks like);
 * - `keep` (resumable.put only): persist only this many bytes of the chunk, rounded down to
 *   256 KiB, and say so in the 308's Range header.
 */
export interface FaultRule {
	op: Operation | "*";
	times?: number;
	status?: number;
	reset?: boolean;
	loseResponse?: boolean;
	keep?: number;
}

export interface InjectedFault {
	op: Operation;
	rule: FaultRule;
}

export class Faults {
	private rules: (FaultRule & { left: number })[] = [];
	/** Every fault that fired, in order. */
	readonly fired: InjectedFault[] = [];

	constructor(private readonly expireSessions: () => void) {}

	inject(rule: FaultRule): void {
		const modes = [
			rule.status !== undefined,
			rule.reset,
			rule.loseResponse,
			rule.keep !== undefined,
		];
		if (modes.filter(Boolean).length !== 1) {
			throw new Error("a fault rule needs exactly one of status, reset, loseResponse, keep");
		}
		this.rules.push({ ...rule, left: rule.times ?? 1 });
	}

	clear(): void {
		this.rules = [];
	}

	/** Faults not yet consumed. */
	get pending(): number {
		return this.rules.reduce((n, r) => n + r.left, 0);
	}

	/** Make every open resumable session expired, as if its week had passed. */
	expireAllSessions(): void {
		this.expireSessions();
	}

	/** The fault for this request, if one is armed for its operation (consumes it). */
	take(op: Operation): FaultRule | undefined {
		if (op === "control") return undefined;
		const rule = this.rules.find(
			(r) =>
				r.left > 0 &&
				(r.op === "*" || r.op === op) &&
				(r.keep === undefined || op === "resumable.put"),
		);
		if (!rule) return undefined;
		rule.left--;
		this.rules = this.rules.filter((r) => r.left > 0);
		this.fired.push({ op, rule });
		return rule;
	}
}
