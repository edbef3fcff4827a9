import { randomBytes } from "node:crypto";

/**
 * Block ids are self-describing, so the order of an upload's blocks never depends on the order
 * in which Azure lists uncommitted blocks (which it does not promise):
 *
 *   base64("stowage.<upload 8 hex>.<seq 7 digits>.<session 8 hex>")
 *
 * - `upload` names one upload of a path (a new `writer(path)` starts a new one), so blocks left
 *   by an abandoned earlier upload of the same path are never mistaken for this one's.
 * - `seq` is the block's position in the blob (Azure allows 50,000 committed blocks).
 * - `session` names the writer that staged it: two writers racing on one upload stage different
 *   ids for the same position instead of silently replacing each other's bytes, and the next
 *   resume reports the conflict.
 *
 * Every id has the same length (33 bytes, 44 base64 characters), as Azure requires of the ids of
 * one blob.
 */
const PATTERN = /^stowage\.([0-9a-f]{8})\.(\d{7})\.([0-9a-f]{8})$/;

export const MAX_BLOCKS = 50_000;

export interface BlockId {
	readonly upload: string;
	readonly seq: number;
	readonly session: string;
}

/** A fresh 8-hex token for an upload or a writer session. */
export function newToken(): string {
	return randomBytes(4).toString("hex");
}

export function encodeBlockId(id: BlockId): string {
	const seq = String(id.seq).padStart(7, "0");
	return Buffer.from(`stowage.${id.upload}.${seq}.${id.session}`, "ascii").toString("base64");
}

/** The parts of an id this driver wrote, or undefined for any other id. */
export function decodeBlockId(encoded: string): BlockId | undefined {
	const m = PATTERN.exec(Buffer.from(encoded, "base64").toString("latin1"));
	if (!m) return undefined;
	return { upload: m[1] as string, seq: Number(m[2]), session: m[3] as string };
}
