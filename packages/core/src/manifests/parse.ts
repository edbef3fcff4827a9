import { parseDigest } from "../digest.js";
import { ManifestInvalidError } from "../errors/registry-errors.js";
import {
	DOCKER_MANIFEST,
	DOCKER_MANIFEST_LIST,
	isIndexMediaType,
	isManifestMediaType,
	type ManifestMediaType,
	OCI_INDEX,
	OCI_MANIFEST,
} from "./media-types.js";

/** A content descriptor as it appears inside a manifest. */
export interface ManifestDescriptor {
	readonly mediaType: string;
	readonly digest: string;
	readonly size: number;
	readonly urls?: string[];
	readonly annotations?: Record<string, string>;
	readonly artifactType?: string;
	readonly platform?: Record<string, unknown>;
}

export interface ParsedManifest {
	readonly mediaType: ManifestMediaType;
	/** Blobs that must be linked in the repository: config and layers (not foreign layers). */
	readonly blobs: ManifestDescriptor[];
	/** Manifests that must exist in the repository: an index's children. */
	readonly manifests: ManifestDescriptor[];
	readonly subject?: ManifestDescriptor;
	/** What the referrers API reports: `artifactType`, else an image manifest's config type. */
	readonly artifactType?: string;
	readonly annotations?: Record<string, string>;
}

/** Content types that say nothing about the format: the body's `mediaType` decides. */
const GENERIC_TYPES = new Set(["", "application/json", "application/octet-stream"]);

/** `type/subtype` without parameters, lowercased. */
export function baseMediaType(contentType: string | undefined): string {
	return (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

/**
 * Parse and validate a manifest. The format comes from the Content-Type when it names one, else
 * from the body's `mediaType` field, else from its shape (OCI allows omitting the field); a
 * Content-Type that contradicts the field is invalid, since clients would disagree on the type.
 */
export function parseManifest(content: Uint8Array, contentType?: string): ParsedManifest {
	const body = decodeJson(content);
	const declared = baseMediaType(contentType);
	const field = body.mediaType;
	if (field !== undefined && typeof field !== "string") invalid("mediaType must be a string");

	let mediaType: string;
	if (GENERIC_TYPES.has(declared)) {
		mediaType = field ?? inferMediaType(body);
	} else {
		if (!isManifestMediaType(declared)) invalid(`unsupported manifest media type ${declared}`);
		if (field !== undefined && field !== declared) {
			invalid(`Content-Type ${declared} does not match mediaType ${field}`);
		}
		mediaType = declared;
	}
	if (!isManifestMediaType(mediaType)) invalid(`unsupported manifest media type ${mediaType}`);
	if (body.schemaVersion !== 2) invalid("schemaVersion must be 2");
	// Docker's formats require the field; OCI's only recommend it.
	if (
		(mediaType === DOCKER_MANIFEST || mediaType === DOCKER_MANIFEST_LIST) &&
		field === undefined
	) {
		invalid(`mediaType field is required for ${mediaType}`);
	}

	const subject = body.subject === undefined ? undefined : descriptor(body.subject, "subject");
	const artifactType = optionalString(body.artifactType, "artifactType");
	const annotations = stringMap(body.annotations, "annotations");

	if (isIndexMediaType(mediaType)) {
		if (!Array.isArray(body.manifests)) invalid("manifests must be an array");
		const manifests = body.manifests.map((m: unknown, i: number) =>
			descriptor(m, `manifests[${i}]`),
		);
		return { mediaType, blobs: [], manifests, subject, artifactType, annotations };
	}

	const config = descriptor(body.config, "config");
	if (body.layers !== undefined && !Array.isArray(body.layers)) invalid("layers must be an array");
	const layers: ManifestDescriptor[] = (body.layers ?? []).map((l: unknown, i: number) =>
		descriptor(l, `layers[${i}]`),
	);
	// Foreign (non-distributable) layers live at their URLs, not in the registry.
	const blobs = [config, ...layers.filter((l) => !l.urls?.length)];
	return {
		mediaType,
		blobs,
		manifests: [],
		subject,
		artifactType: artifactType ?? (mediaType === OCI_MANIFEST ? config.mediaType : undefined),
		annotations,
	};
}

/** Parsed JSON, validated field by field below. */
type Json = Record<string, unknown>;

function decodeJson(content: Uint8Array): Json {
	let text: string;
	try {
		text = new TextDecoder("utf-8", { fatal: true }).decode(content);
	} catch (err) {
		invalid("manifest is not valid UTF-8", err);
	}
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch (err) {
		invalid("manifest is not valid JSON", err);
	}
	if (!isObject(value)) invalid("manifest must be a JSON object");
	return value;
}

function inferMediaType(body: Json): string {
	if (Array.isArray(body.manifests)) return OCI_INDEX;
	if (isObject(body.config)) return OCI_MANIFEST;
	invalid("cannot tell the manifest's media type: no Content-Type and no mediaType field");
}

function descriptor(value: unknown, where: string): ManifestDescriptor {
	if (!isObject(value)) invalid(`${where} must be a descriptor object`);
	const { mediaType, digest, size, urls } = value;
	if (typeof mediaType !== "string" || mediaType.length === 0) {
		invalid(`${where}.mediaType must be a non-empty string`);
	}
	if (typeof digest !== "string") invalid(`${where}.digest must be a string`);
	try {
		parseDigest(digest);
	} catch (err) {
		invalid(`${where}.digest ${JSON.stringify(digest)} is not a supported digest`, err);
	}
	if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
		invalid(`${where}.size must be a non-negative integer`);
	}
	if (urls !== undefined && (!Array.isArray(urls) || urls.some((u) => typeof u !== "string"))) {
		invalid(`${where}.urls must be an array of strings`);
	}
	if (value.platform !== undefined && !isObject(value.platform)) {
		invalid(`${where}.platform must be an object`);
	}
	const artifactType = optionalString(value.artifactType, `${where}.artifactType`);
	const annotations = stringMap(value.annotations, `${where}.annotations`);
	return {
		mediaType,
		digest,
		size,
		...(urls ? { urls } : {}),
		...(annotations ? { annotations } : {}),
		...(artifactType !== undefined ? { artifactType } : {}),
		...(value.platform ? { platform: value.platform } : {}),
	};
}

function optionalString(value: unknown, where: string): string | undefined {
	if (value === undefined) return undefined;
	if (typeof value !== "string") invalid(`${where} must be a string`);
	return value;
}

function stringMap(value: unknown, where: string): Record<string, string> | undefined {
	if (value === undefined) return undefined;
	if (!isObject(value) || Object.values(value).some((v) => typeof v !== "string")) {
		invalid(`${where} must map strings to strings`);
	}
	return value as Record<string, string>;
}

function isObject(value: unknown): value is Json {
	return typeof value === "object" && value !== null && !Array.isArray(value);
}

function invalid(reason: string, cause?: unknown): never {
	throw new ManifestInvalidError(reason, cause === undefined ? undefined : { cause });
}
