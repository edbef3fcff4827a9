import { NameInvalidError, TagInvalidError } from "./errors/registry-errors.js";

/** OCI distribution-spec repository name: lowercase path components joined by `/`. */
const NAME_RE =
	/^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

/** Distribution's limit on a whole repository name. */
export const MAX_NAME_LENGTH = 255;

export function validateRepositoryName(name: string): string {
	if (typeof name !== "string" || name.length === 0) throw new NameInvalidError(String(name));
	if (name.length > MAX_NAME_LENGTH) {
		throw new NameInvalidError(name, `repository name longer than ${MAX_NAME_LENGTH} characters`);
	}
	if (!NAME_RE.test(name)) throw new NameInvalidError(name);
	return name;
}

export function isValidRepositoryName(name: string): boolean {
	return typeof name === "string" && name.length <= MAX_NAME_LENGTH && NAME_RE.test(name);
}

export function validateTag(tag: string): string {
	if (typeof tag !== "string" || !TAG_RE.test(tag)) throw new TagInvalidError(String(tag));
	return tag;
}

export function isValidTag(tag: string): boolean {
	return typeof tag === "string" && TAG_RE.test(tag);
}
