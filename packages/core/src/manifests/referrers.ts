import type { ParsedDigest } from "../digest.js";
import type { StorageDriver } from "../driver/types.js";
import type { Layout } from "../layout.js";
import { compareStrings, listNames, mapLimit, readLink } from "./links.js";
import { OCI_INDEX } from "./media-types.js";
import { parseManifest } from "./parse.js";

/**
 * Referrers layout (Stowage's own; Distribution has no referrers store):
 *
 *   repositories/<name>/_manifests/referrers/<subject-alg>/<subject-hex>/<alg>/<hex>/link
 *
 * One link per manifest whose `subject` is the given digest, holding the referrer's digest. It is
 * written when the referrer is pushed and removed when it is deleted by digest; the subject need
 * not exist. The descriptors are derived from the referrer manifests at read time, so a link whose
 * revision is gone is skipped rather than served stale.
 */
export function referrersDir(layout: Layout, repository: string, subject: ParsedDigest): string {
	return `${layout.manifestsRoot(repository)}/referrers/${subject.algorithm}/${subject.hex}`;
}

export function referrerLink(
	layout: Layout,
	repository: string,
	subject: ParsedDigest,
	referrer: ParsedDigest,
): string {
	return `${referrersDir(layout, repository, subject)}/${referrer.algorithm}/${referrer.hex}/link`;
}

export interface ReferrerDescriptor {
	mediaType: string;
	digest: string;
	size: number;
	artifactType?: string;
	annotations?: Record<string, string>;
}

/** The referrers response body: an OCI image index. */
export interface ReferrersIndex {
	schemaVersion: 2;
	mediaType: typeof OCI_INDEX;
	manifests: ReferrerDescriptor[];
}

export async function listReferrers(
	driver: StorageDriver,
	layout: Layout,
	repository: string,
	subject: ParsedDigest,
	options: {
		artifactType?: string;
		signal?: AbortSignal;
		/** The referrer's bytes if the repository still holds it. */
		read: (d: ParsedDigest) => Promise<Buffer | undefined>;
	},
): Promise<ReferrersIndex> {
	const { signal } = options;
	const dir = referrersDir(layout, repository, subject);
	const links: string[] = [];
	for (const alg of (await listNames(driver, dir, signal)) ?? []) {
		for (const hex of (await listNames(driver, `${dir}/${alg}`, signal)) ?? []) {
			links.push(`${dir}/${alg}/${hex}/link`);
		}
	}
	const found = await mapLimit(links, 8, async (link) => {
		const d = await readLink(driver, link, signal);
		const content = d && (await options.read(d));
		return d && content ? describe(d, content) : undefined;
	});
	const manifests = found
		.filter((m): m is ReferrerDescriptor => m !== undefined)
		.filter((m) => options.artifactType === undefined || m.artifactType === options.artifactType)
		.sort((a, b) => compareStrings(a.digest, b.digest));
	return { schemaVersion: 2, mediaType: OCI_INDEX, manifests };
}

function describe(d: ParsedDigest, content: Buffer): ReferrerDescriptor | undefined {
	try {
		const parsed = parseManifest(content);
		return {
			mediaType: parsed.mediaType,
			digest: d.digest,
			size: content.length,
			...(parsed.artifactType !== undefined ? { artifactType: parsed.artifactType } : {}),
			...(parsed.annotations ? { annotations: parsed.annotations } : {}),
		};
	} catch {
		// Stored bytes that no longer parse are left out rather than failing the whole list.
		return undefined;
	}
}
