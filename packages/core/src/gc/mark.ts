import { type ParsedDigest, parseDigest } from "../digest.js";
import { PathNotFoundError } from "../driver/errors.js";
import type { FileInfo, StorageDriver } from "../driver/types.js";
import type { Layout } from "../layout.js";
import { mapLimit, readLink } from "../manifests/links.js";
import { parseManifest } from "../manifests/parse.js";

export interface MarkContext {
	readonly driver: StorageDriver;
	readonly layout: Layout;
	/** Epoch ms: anything modified at or after it is too young to judge, hence kept. */
	readonly cutoff: number;
	readonly deleteUntagged: boolean;
	readonly concurrency: number;
	readonly signal?: AbortSignal;
	/** The global mark set of digests, added to here. */
	readonly marked: Set<string>;
	readonly onManifest: () => void;
	readonly warn: (message: string) => void;
}

/** An old revision nothing tagged reaches (found only with deleteUntagged). */
export interface UntaggedManifest {
	readonly digest: ParsedDigest;
	readonly subject?: ParsedDigest;
	/** Tags whose history (`tags/<tag>/index`) names it. */
	readonly history: string[];
	/** What it references, marked after all if its removal is called off. */
	readonly references: string[];
}

export interface RepositoryMark {
	readonly untagged: UntaggedManifest[];
	/** Old layer links none of the repository's live manifests reference. */
	readonly danglingLinks: ParsedDigest[];
}

interface Revision {
	readonly digest: ParsedDigest;
	readonly young: boolean;
	/** Undefined when the revision's bytes are gone. */
	content?: {
		/** Blobs (config, layers) and manifests (index children) it references. */
		readonly references: string[];
		readonly children: string[];
		readonly subject?: ParsedDigest;
		/** Bytes that do not parse as a manifest Stowage knows: their references are unknown. */
		readonly opaque: boolean;
	};
}

/**
 * Mark one repository: every blob its live manifests reference, and every link or revision
 * younger than the cut-off whatever it names (a push in progress links blobs before its manifest
 * exists). Live manifests are all revisions, or with deleteUntagged those reachable from a tag,
 * from a young or unreadable revision, through index children, subjects and referrers.
 *
 * A manifest whose bytes do not parse (Docker schema 1 from a Distribution store, say) makes the
 * whole repository opaque: all its links are kept, since its references cannot be known.
 */
export async function markRepository(ctx: MarkContext, name: string): Promise<RepositoryMark> {
	const { driver, layout, signal } = ctx;
	const revisions = new Map<string, Revision>();
	await walkLinks(ctx, layout.manifestRevisionsRoot(name), (digest, info) => {
		revisions.set(digest.digest, { digest, young: info.modTime.getTime() >= ctx.cutoff });
	});
	await mapLimit([...revisions.values()], ctx.concurrency, async (revision) => {
		revision.content = await readRevision(ctx, name, revision.digest);
		ctx.onManifest();
	});

	const opaque = [...revisions.values()].some((r) => r.content?.opaque);
	if (opaque) ctx.warn(`${name}: a manifest could not be parsed; all its layer links are kept`);

	let live: Set<string>;
	const history = new Map<string, string[]>();
	if (ctx.deleteUntagged) {
		const roots = await readTags(ctx, name, history);
		for (const r of revisions.values()) {
			if (r.young || r.content?.opaque) roots.push(r.digest.digest);
		}
		live = reach(roots, revisions);
	} else {
		live = new Set(revisions.keys());
	}

	const referenced = new Set<string>();
	const untagged: UntaggedManifest[] = [];
	for (const r of revisions.values()) {
		const refs = [r.digest.digest, ...(r.content?.references ?? [])];
		if (r.content?.subject) refs.push(r.content.subject.digest);
		if (live.has(r.digest.digest)) {
			for (const ref of refs) referenced.add(ref);
		} else {
			untagged.push({
				digest: r.digest,
				...(r.content?.subject ? { subject: r.content.subject } : {}),
				history: history.get(r.digest.digest) ?? [],
				references: refs,
			});
		}
	}

	const danglingLinks: ParsedDigest[] = [];
	const aliases: ParsedDigest[] = [];
	await walkLinks(ctx, layout.layersRoot(name), (digest, info) => {
		const keep = opaque || referenced.has(digest.digest) || info.modTime.getTime() >= ctx.cutoff;
		if (!keep) {
			danglingLinks.push(digest);
			return;
		}
		ctx.marked.add(digest.digest);
		// Distribution links other algorithms to the canonical sha256 blob: keep that too.
		if (digest.algorithm !== "sha256") aliases.push(digest);
	});
	await mapLimit(aliases, ctx.concurrency, async (alias) => {
		const target = await readLink(driver, layout.layerLink(name, alias), signal);
		if (target) ctx.marked.add(target.digest);
	});
	for (const digest of referenced) ctx.marked.add(digest);
	return { untagged, danglingLinks };
}

/** Manifests reachable from the roots within one repository. */
function reach(roots: string[], revisions: Map<string, Revision>): Set<string> {
	const referrers = new Map<string, string[]>();
	for (const r of revisions.values()) {
		const subject = r.content?.subject?.digest;
		if (subject) referrers.set(subject, [...(referrers.get(subject) ?? []), r.digest.digest]);
	}
	const live = new Set<string>();
	const queue = [...roots];
	for (let digest = queue.pop(); digest !== undefined; digest = queue.pop()) {
		if (live.has(digest)) continue;
		live.add(digest);
		const content = revisions.get(digest)?.content;
		queue.push(...(content?.children ?? []), ...(referrers.get(digest) ?? []));
		if (content?.subject) queue.push(content.subject.digest);
	}
	return live;
}

async function readRevision(
	ctx: MarkContext,
	name: string,
	digest: ParsedDigest,
): Promise<Revision["content"]> {
	const { driver, layout, signal } = ctx;
	const target =
		(await readLink(driver, layout.manifestRevisionLink(name, digest), signal)) ?? digest;
	let bytes: Buffer;
	try {
		bytes = await driver.getContent(layout.blobData(target), { signal });
	} catch (err) {
		if (err instanceof PathNotFoundError) return undefined;
		throw err;
	}
	try {
		const parsed = parseManifest(bytes);
		const children = parsed.manifests.map((m) => m.digest);
		return {
			references: [...parsed.blobs.map((b) => b.digest), ...children],
			children,
			...(parsed.subject ? { subject: parseDigest(parsed.subject.digest) } : {}),
			opaque: false,
		};
	} catch {
		return { references: [], children: [], opaque: true };
	}
}

/** Current tag targets (the roots), and into `history` which tags ever named each digest. */
async function readTags(
	ctx: MarkContext,
	name: string,
	history: Map<string, string[]>,
): Promise<string[]> {
	const { driver, layout, signal } = ctx;
	const root = layout.tagsRoot(name);
	const current: string[] = [];
	await walk(ctx, root, (info) => {
		const parts = info.path.slice(root.length + 1).split("/");
		const tag = parts[0] as string;
		if (parts.length === 3 && parts[1] === "current" && parts[2] === "link") {
			current.push(tag);
		} else if (parts.length === 5 && parts[1] === "index" && parts[4] === "link") {
			const digest = toDigest(parts[2], parts[3]);
			if (digest) history.set(digest.digest, [...(history.get(digest.digest) ?? []), tag]);
		}
	});
	const targets = await mapLimit(current, ctx.concurrency, (tag) =>
		readLink(driver, layout.tagCurrentLink(name, tag), signal),
	);
	return targets.filter((t): t is ParsedDigest => t !== undefined).map((t) => t.digest);
}

/** Visit `<root>/<alg>/<hex>/link` files, with the digest their path names. */
export async function walkLinks(
	ctx: Pick<MarkContext, "driver" | "signal">,
	root: string,
	fn: (digest: ParsedDigest, info: FileInfo) => void,
): Promise<void> {
	await walk(ctx, root, (info) => {
		const parts = info.path.slice(root.length + 1).split("/");
		if (parts.length !== 3 || parts[2] !== "link" || info.isDir) return;
		const digest = toDigest(parts[0], parts[1]);
		if (digest) fn(digest, info);
	});
}

/** Walk files below root; a root that does not exist has none. */
async function walk(
	ctx: Pick<MarkContext, "driver" | "signal">,
	root: string,
	fn: (info: FileInfo) => void,
): Promise<void> {
	try {
		await ctx.driver.walk(
			root,
			(info) => {
				if (!info.isDir) fn(info);
				return undefined;
			},
			{ signal: ctx.signal },
		);
	} catch (err) {
		if (!(err instanceof PathNotFoundError)) throw err;
	}
}

export function toDigest(
	algorithm: string | undefined,
	hex: string | undefined,
): ParsedDigest | undefined {
	try {
		return parseDigest(`${algorithm}:${hex}`);
	} catch {
		return undefined;
	}
}
