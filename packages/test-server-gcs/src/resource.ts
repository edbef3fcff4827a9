import type { StoredObject } from "./store.js";

/** The JSON API's object resource (storage#object) for a stored generation. */
export function objectResource(obj: StoredObject, baseUrl: string): Record<string, unknown> {
	const enc = encodeURIComponent(obj.name);
	const time = obj.updated.toISOString();
	return {
		kind: "storage#object",
		id: `${obj.bucket}/${obj.name}/${obj.generation}`,
		selfLink: `${baseUrl}/storage/v1/b/${obj.bucket}/o/${enc}`,
		mediaLink: `${baseUrl}/download/storage/v1/b/${obj.bucket}/o/${enc}?generation=${obj.generation}&alt=media`,
		name: obj.name,
		bucket: obj.bucket,
		generation: obj.generation,
		metageneration: String(obj.metageneration),
		contentType: obj.contentType,
		storageClass: "STANDARD",
		size: String(obj.size),
		...(obj.md5Hash !== undefined && { md5Hash: obj.md5Hash }),
		crc32c: obj.crc32c,
		etag: etag(obj),
		timeCreated: obj.timeCreated.toISOString(),
		updated: time,
		timeStorageClassUpdated: time,
		timeFinalized: time,
		...(obj.componentCount !== undefined && { componentCount: obj.componentCount }),
		...(obj.metadata && { metadata: obj.metadata }),
	};
}

export function etag(obj: StoredObject): string {
	return Buffer.from(`${obj.generation}/${obj.metageneration}`).toString("base64");
}

export function bucketResource(
	name: string,
	created: Date,
	baseUrl: string,
): Record<string, unknown> {
	return {
		kind: "storage#bucket",
		id: name,
		selfLink: `${baseUrl}/storage/v1/b/${name}`,
		name,
		projectNumber: "0",
		metageneration: "1",
		location: "US",
		storageClass: "STANDARD",
		etag: "CAE=",
		timeCreated: created.toISOString(),
		updated: created.toISOString(),
		locationType: "multi-region",
	};
}
