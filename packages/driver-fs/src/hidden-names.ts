import { randomBytes } from "node:crypto";

/**
 * Names the driver keeps beside a file for its own use. `~` never occurs in a valid driver path,
 * so these can never collide with a path, and list, stat, walk and reader never show them.
 */
const VISIBLE_NAME = /^[A-Za-z0-9._-]+$/;

export function isVisibleName(name: string): boolean {
	return VISIBLE_NAME.test(name) && name !== "." && name !== "..";
}

/** Where a writer's uncommitted bytes live until commit renames them onto the target. */
export function partialPath(target: string): string {
	return `${target}~partial`;
}

/** A unique scratch name beside the target, for content renamed into place once complete. */
export function tempPath(target: string): string {
	return `${target}~tmp~${randomBytes(8).toString("hex")}`;
}
