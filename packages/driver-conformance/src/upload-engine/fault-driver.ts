import type { Readable } from "node:stream";
import {
	type FileInfo,
	type FileWriter,
	type OperationOptions,
	type RedirectOptions,
	type StorageDriver,
	StorageDriverError,
	type WalkFn,
	type WalkOptions,
	type WriterOptions,
} from "@stowage/core";

/** Every driver call, and every call on a writer, that a fault can hit. */
export type FaultOperation =
	| "getContent"
	| "putContent"
	| "reader"
	| "writer"
	| "stat"
	| "list"
	| "move"
	| "delete"
	| "redirectURL"
	| "walk"
	| "writer.write"
	| "writer.close"
	| "writer.commit"
	| "writer.cancel";

/**
 * What an injected fault does:
 * - `error`: the call fails without touching the backend;
 * - `error-after`: the call takes effect and then fails, as when the reply of a request the
 *   backend applied is lost (a move that happened, reported as failed);
 * - `latency`: the call is delayed, then runs;
 * - `short-write`: a writer.write hands the backend only the first `bytes` of its chunk (half by
 *   default), then fails, as a disk that fills up mid-write.
 */
export type FaultEffect =
	| { type: "error" }
	| { type: "error-after" }
	| { type: "latency"; ms: number }
	| { type: "short-write"; bytes?: number };

export interface FaultRule {
	op: FaultOperation | readonly FaultOperation[];
	/** Only calls whose path (either path, for a move) matches. */
	path?: RegExp;
	/** Skip this many matching calls before the first fault. Default 0. */
	after?: number;
	/** How many faults the rule injects before it is spent. Default 1; Infinity for all. */
	times?: number;
	/** Chance that a matching call is hit, drawn from the injector's seeded generator. Default 1. */
	probability?: number;
	effect: FaultEffect;
}

export interface InjectedFault {
	op: FaultOperation;
	path: string;
	effect: FaultEffect["type"];
}

export interface FaultInjector {
	/** The driver to hand to the engine; the wrapped one stays untouched for inspection. */
	readonly driver: StorageDriver;
	/** Faults injected so far, in order. */
	readonly injected: readonly InjectedFault[];
	/** Add a rule; the returned function removes it. */
	inject(rule: FaultRule): () => void;
	/** Remove every rule (nothing fails any more). */
	clear(): void;
}

/** The error every injected failure throws: a backend fault, as drivers report them. */
export class InjectedFaultError extends StorageDriverError {}

/**
 * Wrap any driver with programmable faults, for tests of what the engine and the server do when
 * the backend fails: errors before or after the operation, latency, short writes. `seed` makes
 * probabilistic rules repeatable.
 */
export function faultyDriver(inner: StorageDriver, options: { seed?: number } = {}): FaultInjector {
	const rules = new Set<{ rule: FaultRule; seen: number; fired: number }>();
	const injected: InjectedFault[] = [];
	const random = mulberry32(options.seed ?? 1);

	const pick = (op: FaultOperation, paths: string[]): FaultEffect | undefined => {
		for (const entry of rules) {
			const { rule } = entry;
			const ops: readonly FaultOperation[] = typeof rule.op === "string" ? [rule.op] : rule.op;
			if (!ops.includes(op)) continue;
			if (rule.path && !paths.some((p) => rule.path?.test(p))) continue;
			if (entry.fired >= (rule.times ?? 1)) continue;
			entry.seen++;
			if (entry.seen <= (rule.after ?? 0)) continue;
			if (rule.probability !== undefined && random() >= rule.probability) continue;
			entry.fired++;
			injected.push({ op, path: paths.join(" -> "), effect: rule.effect.type });
			return rule.effect;
		}
		return undefined;
	};

	const fail = (op: FaultOperation, paths: string[]) =>
		new InjectedFaultError(inner.name, `injected fault: ${op} ${paths.join(" -> ")}`);

	/** Run `call` through whatever fault a rule has for it. */
	const run = async <T>(op: FaultOperation, paths: string[], call: () => Promise<T>) => {
		const effect = pick(op, paths);
		if (!effect) return call();
		switch (effect.type) {
			case "error":
			case "short-write":
				throw fail(op, paths);
			case "error-after":
				await call();
				throw fail(op, paths);
			case "latency":
				await new Promise((resolve) => setTimeout(resolve, effect.ms));
				return call();
		}
	};

	const wrapWriter = (path: string, writer: FileWriter): FileWriter => ({
		get size() {
			return writer.size;
		},
		write: async (chunk) => {
			const effect = pick("writer.write", [path]);
			if (effect?.type === "short-write") {
				const bytes = Math.min(effect.bytes ?? Math.floor(chunk.length / 2), chunk.length);
				if (bytes > 0) await writer.write(chunk.subarray(0, bytes));
				throw fail("writer.write", [path]);
			}
			if (effect?.type === "error") throw fail("writer.write", [path]);
			if (effect?.type === "latency") await new Promise((r) => setTimeout(r, effect.ms));
			await writer.write(chunk);
			if (effect?.type === "error-after") throw fail("writer.write", [path]);
		},
		close: () => run("writer.close", [path], () => writer.close()),
		commit: () => run("writer.commit", [path], () => writer.commit()),
		cancel: () => run("writer.cancel", [path], () => writer.cancel()),
	});

	const driver: StorageDriver = {
		name: inner.name,
		capabilities: inner.capabilities,
		getContent: (path: string, o?: OperationOptions) =>
			run("getContent", [path], () => inner.getContent(path, o)),
		putContent: (path: string, content: Uint8Array, o?: OperationOptions) =>
			run("putContent", [path], () => inner.putContent(path, content, o)),
		reader: (path: string, offset?: number, o?: OperationOptions): Promise<Readable> =>
			run("reader", [path], () => inner.reader(path, offset, o)),
		writer: async (path: string, o?: WriterOptions) =>
			wrapWriter(path, await run("writer", [path], () => inner.writer(path, o))),
		stat: (path: string, o?: OperationOptions): Promise<FileInfo> =>
			run("stat", [path], () => inner.stat(path, o)),
		list: (path: string, o?: OperationOptions) => run("list", [path], () => inner.list(path, o)),
		move: (from: string, to: string, o?: OperationOptions) =>
			run("move", [from, to], () => inner.move(from, to, o)),
		delete: (path: string, o?: OperationOptions) =>
			run("delete", [path], () => inner.delete(path, o)),
		redirectURL: (path: string, o: RedirectOptions) =>
			run("redirectURL", [path], () => inner.redirectURL(path, o)),
		walk: (path: string, fn: WalkFn, o?: WalkOptions) =>
			run("walk", [path], () => inner.walk(path, fn, o)),
	};

	return {
		driver,
		injected,
		inject(rule) {
			const entry = { rule, seen: 0, fired: 0 };
			rules.add(entry);
			return () => rules.delete(entry);
		},
		clear: () => rules.clear(),
	};
}

/** A small seeded generator: the same seed gives the same faults. */
function mulberry32(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}
