import { type ParsedDigest, parseDigest } from "../digest.js";
import type { StorageDriver } from "../driver/types.js";
import { ManifestUnknownError, NameUnknownError } from "../errors/registry-errors.js";
import type { Layout } from "../layout.js";
import { validateTag } from "../names.js";
import { deleteIfExists, listNames, mapLimit, readLink, writeLink } from "./links.js";

export interface TagListOptions {
	/** At most this many tags (all when undefined). */
	n?: number;
	/** Only tags sorting after this one. */
	last?: string;
	signal?: AbortSignal;
}

export interface TagList {
	tags: string[];
	/** More tags follow the last one returned. */
	more: boolean;
}

/**
 * A repository's tags, in Distribution's layout: `_manifests/tags/<tag>/current/link` names the
 * manifest, and `index/<alg>/<hex>/link` records every manifest the tag has pointed at.
 */
export class TagStore {
	constructor(
		readonly repository: string,
		private readonly driver: StorageDriver,
		private readonly layout: Layout,
	) {}

	/** The digest a tag points at; ManifestUnknownError when there is no such tag. */
	async get(tag: string, options: { signal?: AbortSignal } = {}): Promise<string> {
		validateTag(tag);
		const d = await readLink(
			this.driver,
			this.layout.tagCurrentLink(this.repository, tag),
			options.signal,
		);
		if (!d) throw new ManifestUnknownError(this.repository, tag);
		return d.digest;
	}

	async set(tag: string, digest: string, options: { signal?: AbortSignal } = {}): Promise<void> {
		validateTag(tag);
		const d = parseDigest(digest);
		const { signal } = options;
		// History first, then the pointer: a crash between them leaves the old tag intact.
		await writeLink(this.driver, this.layout.tagIndexLink(this.repository, tag, d), d, signal);
		await writeLink(this.driver, this.layout.tagCurrentLink(this.repository, tag), d, signal);
	}

	/** Remove a tag; the manifest stays. ManifestUnknownError when there is no such tag. */
	async delete(tag: string, options: { signal?: AbortSignal } = {}): Promise<void> {
		validateTag(tag);
		const path = this.layout.tag(this.repository, tag);
		if (!(await deleteIfExists(this.driver, path, options.signal))) {
			throw new ManifestUnknownError(this.repository, tag);
		}
	}

	/**
	 * Tags in lexical order, after `last`, at most `n`. NameUnknownError when the repository does
	 * not exist; an existing repository without tags has an empty list.
	 */
	async list(options: TagListOptions = {}): Promise<TagList> {
		const { n, last, signal } = options;
		const names = await listNames(this.driver, this.layout.tagsRoot(this.repository), signal);
		if (!names) {
			const repo = await listNames(this.driver, this.layout.repository(this.repository), signal);
			if (!repo) throw new NameUnknownError(this.repository);
			return { tags: [], more: false };
		}
		const after = last === undefined ? names : names.filter((t) => t > last);
		if (n === undefined || after.length <= n) return { tags: after, more: false };
		return { tags: after.slice(0, n), more: true };
	}

	/** Tags currently pointing at a digest. */
	async lookup(digest: string, options: { signal?: AbortSignal } = {}): Promise<string[]> {
		const d = parseDigest(digest);
		const names =
			(await listNames(this.driver, this.layout.tagsRoot(this.repository), options.signal)) ?? [];
		const current = await mapLimit(
			names,
			8,
			async (tag): Promise<ParsedDigest | undefined> =>
				readLink(this.driver, this.layout.tagCurrentLink(this.repository, tag), options.signal),
		);
		return names.filter((_, i) => current[i]?.digest === d.digest);
	}
}
