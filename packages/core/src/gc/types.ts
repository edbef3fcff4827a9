export interface GcOptions {
	/** Report what would be removed; write and delete nothing (not even the marker). */
	dryRun?: boolean;
	/** Also delete manifests no tag reaches (directly, through an index, subject or referrer). */
	deleteUntagged?: boolean;
	/** Anything written less than this many ms before the collection began is kept. Default 1 h. */
	gracePeriod?: number;
	/** Backend calls kept in flight. Default 8. */
	concurrency?: number;
	signal?: AbortSignal;
	/** Called as counts change; throttle in the caller. */
	onProgress?: (progress: GcProgress) => void;
	/** One event per item removed (or, in a dry run, that would be), and per warning. */
	onEvent?: (event: GcEvent) => void;
	/** How often the marker is rewritten, in ms (tests shorten it). */
	heartbeatMs?: number;
}

export const DEFAULT_GRACE_PERIOD = 60 * 60_000;

export type GcPhase = "mark" | "untagged" | "sweep" | "done";

export interface GcCounts {
	/** Repositories marked. */
	repositories: number;
	/** Manifest revisions read. */
	manifests: number;
	/** Digests found reachable (or too young to judge). */
	marked: number;
	/** Blob directories examined by the sweep. */
	blobs: number;
	blobsDeleted: number;
	bytesFreed: number;
	/** Repository layer links removed. */
	linksRemoved: number;
	/** Untagged manifests removed from repositories. */
	manifestsDeleted: number;
	/** Unreferenced blobs kept because they were written within the grace period. */
	blobsYoung: number;
	/** Removals called off because a writer referenced the digest during the collection. */
	calledOff: number;
	/** Empty directories removed. */
	directoriesRemoved: number;
}

export interface GcProgress extends GcCounts {
	readonly phase: GcPhase;
	/** How far the current phase is, 0..1, when it can be told (the sweep walks blobs in order). */
	readonly fraction?: number;
}

export interface GcResult extends GcCounts {
	readonly runId: string | undefined;
	readonly dryRun: boolean;
	/** The cut-off: what was written at or after it was kept. */
	readonly cutoff: Date;
	readonly durationMs: number;
	readonly warnings: string[];
}

export type GcEvent =
	| { type: "blob"; digest: string; size: number; dryRun: boolean }
	| { type: "link"; repository: string; digest: string; dryRun: boolean }
	| { type: "manifest"; repository: string; digest: string; dryRun: boolean }
	| { type: "directory"; path: string }
	| { type: "called-off"; digest: string; reason: string }
	| { type: "warning"; message: string };
