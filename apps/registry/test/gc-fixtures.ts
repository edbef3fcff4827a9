/** Engine-level pushes and driver hooks for the garbage-collection tests. */
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import type {
	FileInfo,
	FileWriter,
	OperationOptions,
	RedirectOptions,
	Repository,
	StorageDriver,
	WalkFn,
	WalkOptions,
	WriterOptions,
} from "@stowage/core";
import { createFsDriver } from "@stowage/driver-fs";
import { createMemoryDriver } from "@stowage/driver-memory";

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const ROOT = "/docker/registry/v2";

export function digestOf(content: string | Uint8Array): string {
	return `sha256:${createHash("sha256").update(content).digest("hex")}`;
}

export function blobPath(digest: string): string {
	const hex = digest.slice("sha256:".length);
	return `${ROOT}/blobs/sha256/${hex.slice(0, 2)}/${hex}/data`;
}

/** A store to test against, and how to dispose of it. */
export interface TestStore {
	name: string;
	driver: StorageDriver;
	dispose(): Promise<void>;
}

export const STORES: { name: string; create(): Promise<TestStore> }[] = [
	{
		name: "memory",
		create: async () => ({
			name: "memory",
			driver: createMemoryDriver(),
			dispose: async () => undefined,
		}),
	},
	{
		name: "filesystem",
		create: async () => {
			const dir = await mkdtemp(join(tmpdir(), "stowage-gc-"));
			return {
				name: "filesystem",
				driver: await createFsDriver({ rootDirectory: dir }),
				dispose: () => rm(dir, { recursive: true, force: true }),
			};
		},
	},
];

/** A request body of one chunk. */
export async function* body(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
	yield bytes;
}

/** Push a blob through an upload session (start, commit with the body), as clients do. */
export async function pushBlob(repo: Repository, content: string | Buffer) {
	const bytes = Buffer.from(content);
	const digest = digestOf(bytes);
	const session = await repo.uploads.start();
	await repo.uploads.commit(session.id, digest, { body: body(bytes) });
	return { digest, size: bytes.length };
}

export interface Image {
	digest: string;
	size: number;
	bytes: Buffer;
	config: string;
	layers: string[];
}

/** Push config and layers, then the manifest under `reference` (a tag, or its digest). */
export async function pushImage(
	repo: Repository,
	layers: string[],
	options: {
		tag?: string;
		subject?: { digest: string; size: number };
		artifactType?: string;
		/** How a layer gets into the repository; an upload by default. */
		layer?: (content: string) => Promise<{ digest: string; size: number }>;
	} = {},
): Promise<Image> {
	const pushed = [];
	for (const layer of layers) {
		pushed.push(await (options.layer ? options.layer(layer) : pushBlob(repo, layer)));
	}
	const config = await pushBlob(repo, JSON.stringify({ layers, artifact: options.artifactType }));
	const bytes = Buffer.from(
		JSON.stringify({
			schemaVersion: 2,
			mediaType: OCI_MANIFEST,
			...(options.artifactType ? { artifactType: options.artifactType } : {}),
			config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
			layers: pushed.map((l) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar", ...l })),
			...(options.subject ? { subject: { mediaType: OCI_MANIFEST, ...options.subject } } : {}),
		}),
	);
	const digest = digestOf(bytes);
	await repo.manifests.put(options.tag ?? digest, bytes, { contentType: OCI_MANIFEST });
	return {
		digest,
		size: bytes.length,
		bytes,
		config: config.digest,
		layers: pushed.map((l) => l.digest),
	};
}

/** An index of already pushed manifests. */
export async function pushIndex(repo: Repository, children: Image[], tag?: string) {
	const bytes = Buffer.from(
		JSON.stringify({
			schemaVersion: 2,
			mediaType: OCI_INDEX,
			manifests: children.map((c) => ({ mediaType: OCI_MANIFEST, digest: c.digest, size: c.size })),
		}),
	);
	const digest = digestOf(bytes);
	await repo.manifests.put(tag ?? digest, bytes, { contentType: OCI_INDEX });
	return { digest, size: bytes.length };
}

export async function exists(driver: StorageDriver, path: string): Promise<boolean> {
	try {
		await driver.stat(path);
		return true;
	} catch {
		return false;
	}
}

export type Hook = (op: string, path: string) => void | Promise<void>;

/**
 * A driver that calls `before` and `after` around every operation of the driver it wraps: tests
 * use it to run a writer at an exact step of a collection, or to make a backend fail or hang.
 */
export class HookedDriver implements StorageDriver {
	readonly name: string;
	readonly capabilities: StorageDriver["capabilities"];
	before: Hook = () => undefined;
	after: Hook = () => undefined;

	constructor(private readonly inner: StorageDriver) {
		this.name = inner.name;
		this.capabilities = inner.capabilities;
	}

	private async run<T>(op: string, path: string, fn: () => Promise<T>): Promise<T> {
		await this.before(op, path);
		const result = await fn();
		await this.after(op, path);
		return result;
	}

	getContent(path: string, options?: OperationOptions): Promise<Buffer> {
		return this.run("getContent", path, () => this.inner.getContent(path, options));
	}
	putContent(path: string, content: Uint8Array, options?: OperationOptions): Promise<void> {
		return this.run("putContent", path, () => this.inner.putContent(path, content, options));
	}
	reader(path: string, offset?: number, options?: OperationOptions): Promise<Readable> {
		return this.run("reader", path, () => this.inner.reader(path, offset, options));
	}
	writer(path: string, options?: WriterOptions): Promise<FileWriter> {
		return this.run("writer", path, () => this.inner.writer(path, options));
	}
	stat(path: string, options?: OperationOptions): Promise<FileInfo> {
		return this.run("stat", path, () => this.inner.stat(path, options));
	}
	list(path: string, options?: OperationOptions): Promise<string[]> {
		return this.run("list", path, () => this.inner.list(path, options));
	}
	move(sourcePath: string, destPath: string, options?: OperationOptions): Promise<void> {
		return this.run("move", destPath, () => this.inner.move(sourcePath, destPath, options));
	}
	delete(path: string, options?: OperationOptions): Promise<void> {
		return this.run("delete", path, () => this.inner.delete(path, options));
	}
	redirectURL(path: string, options: RedirectOptions): Promise<string | undefined> {
		return this.run("redirectURL", path, () => this.inner.redirectURL(path, options));
	}
	walk(path: string, fn: WalkFn, options?: WalkOptions): Promise<void> {
		return this.run("walk", path, () => this.inner.walk(path, fn, options));
	}
}
