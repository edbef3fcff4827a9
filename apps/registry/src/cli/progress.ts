import cliProgress from "cli-progress";
import type { Logger } from "pino";

export interface Progress {
	/** The phase, a one-line summary of the counts, and how far the phase is (0..1) if known. */
	update(phase: string, summary: Record<string, number>, fraction?: number): void;
	stop(): void;
}

/**
 * Where the CLI's log lines go: stdout, or above the progress bar while one is drawn on the same
 * terminal (a line written under a bar would be torn by its next redraw).
 */
export class LineOutput {
	private sink: ((line: string) => void) | undefined;

	write(line: string): void {
		if (this.sink) this.sink(line);
		else process.stdout.write(line);
	}

	divert(sink: ((line: string) => void) | undefined): void {
		this.sink = sink;
	}
}

export interface ProgressOptions {
	/** Draw a bar on this terminal stream; otherwise log lines. */
	tty?: NodeJS.WriteStream | undefined;
	logger: Logger;
	/** Log lines pass above the bar while it is drawn. */
	output?: LineOutput;
	/** What is being done, e.g. "garbage collection". */
	task: string;
	/** Without a terminal: at most one line per this many ms, plus one per phase. */
	interval: number;
}

/**
 * Progress of a long maintenance run: a bar on a terminal (stderr, so stdout stays a clean log),
 * periodic log lines otherwise (a cron job or a Kubernetes Job keeps those).
 */
export function createProgress(options: ProgressOptions): Progress {
	return options.tty ? barProgress(options.tty, options) : logProgress(options);
}

function describe(summary: Record<string, number>): string {
	return Object.entries(summary)
		.map(([k, v]) => `${k} ${k.toLowerCase().includes("bytes") ? formatBytes(v) : v}`)
		.join(", ");
}

function barProgress(stream: NodeJS.WriteStream, options: ProgressOptions): Progress {
	const SCALE = 1000;
	const bars = new cliProgress.MultiBar(
		{
			stream,
			format: `${options.task}: {phase} [{bar}] {percentage}% | {summary}`,
			hideCursor: true,
			clearOnComplete: false,
			fps: 5,
		},
		cliProgress.Presets.shades_classic,
	);
	let bar: cliProgress.SingleBar | undefined;
	let value = 0;
	let current: string | undefined;
	return {
		update(phase, summary, fraction) {
			// Each phase fills the bar anew.
			if (phase !== current) value = 0;
			current = phase;
			if (fraction !== undefined) value = Math.round(Math.min(1, Math.max(0, fraction)) * SCALE);
			const payload = { phase, summary: describe(summary) };
			if (!bar) {
				bar = bars.create(SCALE, value, payload);
				options.output?.divert((line) => bars.log(line.endsWith("\n") ? line : `${line}\n`));
			} else {
				bar.update(value, payload);
			}
		},
		stop() {
			if (!bar) return;
			// Draw the final counts before leaving the bar behind.
			bars.update();
			bars.stop();
			options.output?.divert(undefined);
		},
	};
}

function logProgress(options: ProgressOptions): Progress {
	const { logger, task } = options;
	let lastPhase: string | undefined;
	let lastLine = 0;
	let pending: { phase: string; summary: Record<string, number>; fraction?: number } | undefined;
	const write = (p: NonNullable<typeof pending>) => {
		lastLine = Date.now();
		pending = undefined;
		logger.info(
			{
				phase: p.phase,
				...p.summary,
				...(p.fraction !== undefined ? { percent: Math.round(p.fraction * 100) } : {}),
			},
			`${task}: ${p.phase}`,
		);
	};
	return {
		update(phase, summary, fraction) {
			const p = { phase, summary, ...(fraction !== undefined ? { fraction } : {}) };
			if (phase !== lastPhase || Date.now() - lastLine >= options.interval) {
				lastPhase = phase;
				write(p);
			} else {
				pending = p;
			}
		},
		stop() {
			if (pending) write(pending);
		},
	};
}

export function formatBytes(n: number): string {
	const units = ["B", "KiB", "MiB", "GiB", "TiB"];
	let value = n;
	let unit = 0;
	while (value >= 1024 && unit < units.length - 1) {
		value /= 1024;
		unit += 1;
	}
	return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`;
}
