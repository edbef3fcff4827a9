import { Readable } from "node:stream";
import type { AppendBlobClient, BlockBlobClient, ContainerClient } from "@azure/storage-blob";
import {
	type DriverCapabilities,
	type FileInfo,
	type FileWriter,
	type OperationOptions,
	PathNotFoundError,
	type RedirectOptions,
	type StorageDriver,
	type WalkFn,
	type WalkOptions,
	type WriterOptions,
} from "@stowage/core";
import { orMissing, statusOf, toDriverError } from "./azure-errors.js";
import { BlobNames } from "./blob-names.js";
import { deleteIfPresent, discardBlob, Limiter } from "./blob-ops.js";
import { newToken } from "./block-ids.js";
import { AzureFileWriter } from "./block-writer.js";
import type { AzureClients, ClientPlan } from "./clients.js";
import { copyBlob } from "./copy.js";
import { blobPages, hasVisibleBelow, listChildren, walkFlat } from "./listing.js";
import { AZURE_MAX_SYNC_COPY, type ResolvedAzureOptions } from "./options.js";
import { resolveUpload, type UploadSnapshot } from "./upload-state.js";

/**
 * Stores each driver path as a block blob named `<rootdirectory>/<path>` in one container.
 * Content is written whole by putContent (one Put Blob, atomic) or streamed by a writer into
 * staged blocks committed at the end (block-writer.ts); an upload's resumable state lives in
 * Azure only, so any process can continue it.
 *
 * Choices where the contract leaves room (shared with the filesystem and memory drivers):
 * - Directories are prefixes: they exist while a committed blob lies below them. `stat` of one
 *   has size 0 and the epoch as its time.
 * - `writer(path, {append: true})` continues the path's upload; without one it continues the
 *   committed content (empty, or written by this driver's writer), and starts from nothing when
 *   the path is missing. Content written by putContent cannot be appended to.
 * - `delete` of a path also discards an upload in progress there (staged blocks and tail blob);
 *   it is PathNotFound only when there was nothing at all.
 */
export class AzureDriver implements StorageDriver {
	readonly name: string;
	readonly capabilities: DriverCapabilities;
	private readonly names: BlobNames;
	private clients: Promise<AzureClients> | undefined;
	private container: Promise<AzureClients> | undefined;

	constructor(
		private readonly options: ResolvedAzureOptions,
		private readonly plan: ClientPlan,
	) {
		this.name = options.name;
		this.names = new BlobNames(options.prefix);
		this.capabilities = Object.freeze({
			redirect: plan.canSign,
			serverSideMove: true,
			minPartSize: 0,
			inProcess: false,
		});
	}

	/** The blob-name prefix of every path ("" or "<rootdirectory>/"). */
	get prefix(): string {
		return this.options.prefix;
	}

	async getContent(path: string, options: OperationOptions = {}): Promise<Buffer> {
		return this.op("getContent", path, async ({ container }) => {
			const r = await this.blob(container, path).download(0, undefined, {
				abortSignal: options.signal,
				maxRetryRequests: this.options.maxRetries,
			});
			const parts: Buffer[] = [];
			for await (const chunk of r.readableStreamBody ?? []) parts.push(chunk as Buffer);
			return Buffer.concat(parts);
		});
	}

	async putContent(
		path: string,
		content: Uint8Array,
		options: OperationOptions = {},
	): Promise<void> {
		await this.op("putContent", path, async ({ container }) => {
			// One Put Blob up to 256 MiB; above, staged blocks and one commit: atomic either way.
			await this.blob(container, path).uploadData(content, {
				abortSignal: options.signal,
				blockSize: this.options.blockSize,
				maxSingleShotSize: AZURE_MAX_SYNC_COPY,
				concurrency: 4,
			});
		});
	}

	async reader(path: string, offset = 0, options: OperationOptions = {}): Promise<Readable> {
		return this.op("reader", path, async ({ container }) => {
			try {
				const r = await this.blob(container, path).download(offset, undefined, {
					abortSignal: options.signal,
					// Resumes a broken stream at the same version (the SDK pins the ETag).
					maxRetryRequests: this.options.maxRetries,
				});
				return (r.readableStreamBody as Readable | undefined) ?? emptyStream();
			} catch (err) {
				// An offset at or past the end: Azure answers 416 InvalidRange; the contract, EOF.
				if (statusOf(err) === 416) return emptyStream();
				throw err;
			}
		});
	}

	async writer(path: string, options: WriterOptions = {}): Promise<FileWriter> {
		const { signal } = options;
		return this.op("writer", path, async ({ container }) => {
			const blob = this.blob(container, path);
			const tail = this.tail(container, path);
			const target = {
				driver: this.name,
				path,
				blob,
				tail,
				blockSize: this.options.blockSize,
				signal,
				fresh: !options.append,
			};
			if (!options.append) {
				const committed = await orMissing(() => blob.getProperties({ abortSignal: signal }));
				return new AzureFileWriter(target, {
					upload: newToken(),
					base: committed?.etag,
					start: 0,
					blocks: [],
					tail: undefined,
					hasUncommitted: false,
				});
			}
			const snapshot = await this.uploadSnapshot(blob, tail, signal);
			return new AzureFileWriter(target, resolveUpload(this.name, path, snapshot));
		});
	}

	async stat(path: string, options: OperationOptions = {}): Promise<FileInfo> {
		return this.op("stat", path, async ({ container }) => {
			const { signal } = options;
			if (path !== "/") {
				const props = await orMissing(() =>
					this.blob(container, path).getProperties({ abortSignal: signal }),
				);
				if (props) {
					return {
						path,
						size: props.contentLength ?? 0,
						modTime: props.lastModified ?? new Date(0),
						isDir: false,
					};
				}
			}
			if (await hasVisibleBelow(container, this.names, path, signal)) {
				return { path, size: 0, modTime: new Date(0), isDir: true };
			}
			throw new PathNotFoundError(this.name, path);
		});
	}

	async list(path: string, options: OperationOptions = {}): Promise<string[]> {
		return this.op("list", path, async ({ container }) => {
			const children = await listChildren(container, this.names, path, options.signal);
			if (children.length === 0) throw new PathNotFoundError(this.name, path);
			return children;
		});
	}

	async move(sourcePath: string, destPath: string, options: OperationOptions = {}): Promise<void> {
		await this.op("move", sourcePath, async (clients) => {
			const source = this.blob(clients.container, sourcePath);
			const dest = this.blob(clients.container, destPath);
			await copyBlob({
				driver: this.name,
				sourcePath,
				source,
				dest,
				signer: clients.signer,
				containerName: clients.container.containerName,
				syncCopyMaxSize: this.options.syncCopyMaxSize,
				pollIntervalMs: Math.max(50, this.options.retryDelayMs),
				signal: options.signal,
			});
		});
	}

	async delete(path: string, options: OperationOptions = {}): Promise<void> {
		await this.op("delete", path, async ({ container }) => {
			const { signal } = options;
			const limiter = new Limiter(this.options.deleteConcurrency);
			let found = false;
			const file = this.names.file(path);
			const tail = this.names.tail(path);
			// Uploads in progress at or below the path first: their tail blobs name the blobs that
			// hold staged blocks, which need more than a plain delete (see discardStaged).
			const uploads = new Set<string>();
			try {
				await this.scan(container, tail, undefined, signal, async (item) => {
					const rel = item.name.slice(tail.length);
					if (rel !== "" && !rel.startsWith("/")) return true;
					uploads.add(file + rel);
					await limiter.run(async () => {
						const blob = container.getBlobClient(item.name);
						if (await deleteIfPresent(blob, undefined, signal)) found = true;
					});
					return true;
				});
			} finally {
				await limiter.drain();
			}
			const discard = (name: string) =>
				limiter.run(async () => {
					const blob = container.getBlockBlobClient(name);
					if (await discardBlob(blob, uploads.has(name), signal)) found = true;
				});
			const scans = [
				// The blob at the path itself (committed, or staged only): the first name with its prefix.
				this.scan(container, file, 1, signal, async (item) => {
					if (item.name === file) await discard(item.name);
					return false;
				}),
				// Everything below it, as a directory; true subpaths only (`/a` never takes `/ab`).
				this.scan(container, `${file}/`, undefined, signal, async (item) => {
					await discard(item.name);
					return true;
				}),
			];
			try {
				await Promise.all(scans);
			} finally {
				await Promise.allSettled(scans);
				await limiter.drain();
			}
			if (!found) throw new PathNotFoundError(this.name, path);
		});
	}

	async redirectURL(path: string, options: RedirectOptions): Promise<string | undefined> {
		if (!this.capabilities.redirect) return undefined;
		// Signing needs the clients but no request: the container is not touched.
		return this.op("redirectURL", path, async ({ container, signer }) => {
			if (!signer) return undefined;
			const seconds = options.expiresIn ?? this.options.redirectExpirySeconds;
			const blob = this.blob(container, path);
			const sas = await signer.sign(
				container.containerName,
				blob.name,
				new Date(Date.now() + seconds * 1000),
			);
			return `${blob.url}?${sas}`;
		});
	}

	async walk(path: string, fn: WalkFn, options: WalkOptions = {}): Promise<void> {
		await this.op("walk", path, ({ container }) =>
			walkFlat(container, this.names, this.name, path, fn, options),
		);
	}

	private blob(container: ContainerClient, path: string): BlockBlobClient {
		return container.getBlockBlobClient(this.names.file(path));
	}

	private tail(container: ContainerClient, path: string): AppendBlobClient {
		return container.getAppendBlobClient(this.names.tail(path));
	}

	/** Committed blob, block lists and tail blob of a path, read in parallel. */
	private async uploadSnapshot(
		blob: BlockBlobClient,
		tail: AppendBlobClient,
		signal: AbortSignal | undefined,
	): Promise<UploadSnapshot> {
		const [committed, blocks, tailProps] = await Promise.all([
			orMissing(() => blob.getProperties({ abortSignal: signal })),
			orMissing(() => blob.getBlockList("all", { abortSignal: signal })),
			orMissing(() => tail.getProperties({ abortSignal: signal })),
		]);
		return {
			committed: committed && {
				etag: committed.etag as string,
				size: committed.contentLength ?? 0,
			},
			committedBlocks: blocks?.committedBlocks ?? [],
			uncommittedBlocks: blocks?.uncommittedBlocks ?? [],
			tail: tailProps && {
				etag: tailProps.etag as string,
				size: tailProps.contentLength ?? 0,
				appends: tailProps.blobCommittedBlockCount ?? 0,
				metadata: tailProps.metadata,
			},
		};
	}

	/** Feed every blob (staged ones included) under `prefix` to `each` until it returns false. */
	private async scan(
		container: ContainerClient,
		prefix: string,
		limit: number | undefined,
		signal: AbortSignal | undefined,
		each: (item: { name: string }) => Promise<boolean>,
	): Promise<void> {
		for await (const items of blobPages(container, prefix, {
			uncommitted: true,
			signal,
			pageSize: limit,
		})) {
			for (const item of items) if (!(await each(item))) return;
			if (limit !== undefined) return;
		}
	}

	/** Ensure the container (once), run `fn`, and turn any SDK error into a driver error. */
	private async op<T>(
		op: string,
		path: string,
		fn: (clients: AzureClients) => Promise<T>,
	): Promise<T> {
		try {
			return await fn(await (op === "redirectURL" ? this.built() : this.ready()));
		} catch (err) {
			throw toDriverError(this.name, op, path, err);
		}
	}

	/** The clients, built once (loading @azure/identity when the credentials need it). */
	private built(): Promise<AzureClients> {
		this.clients ??= this.plan.build().catch((err: unknown) => {
			this.clients = undefined;
			throw err;
		});
		return this.clients;
	}

	/** The clients, with the container created if missing: once, on first use. */
	private ready(): Promise<AzureClients> {
		this.container ??= (async () => {
			const clients = await this.built();
			try {
				await clients.container.createIfNotExists();
			} catch (err) {
				// A credential scoped to the container may not create it; it then already exists.
				if (statusOf(err) !== 403) throw err;
			}
			return clients;
		})().catch((err: unknown) => {
			this.container = undefined;
			throw err;
		});
		return this.container;
	}
}

function emptyStream(): Readable {
	return Readable.from([], { objectMode: false });
}
