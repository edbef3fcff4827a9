import type { Readable } from "node:stream";
import { Storage } from "@google-cloud/storage";
import {
	checkedDriver,
	type DriverCapabilities,
	type FileInfo,
	type FileWriter,
	isValidPath,
	joinPath,
	type OperationOptions,
	PathNotFoundError,
	type RedirectOptions,
	type StorageDriver,
	type WalkFn,
	type WalkOptions,
	type WriterOptions,
} from "@stowage/core";
import { BucketApi, type ObjectInfo } from "./bucket-api.js";
import { isPreconditionFailed, toDriverError } from "./gcs-errors.js";
import { GcsWriter, type WriterHost } from "./gcs-writer.js";
import { forEachBounded, Limiter } from "./limiter.js";
import { isVisibleComponent, ObjectNames } from "./object-names.js";
import {
	CHUNK_GRANULARITY,
	type GcsDriverOptions,
	type ResolvedOptions,
	resolveOptions,
} from "./options.js";
import type { SessionDeps } from "./session.js";
import { clientSigner, keySigner, signedUrl, type UrlSigner } from "./signing.js";
import { md5Base64 } from "./upload-parts.js";

/** Directories are synthesized from names: they have no time of their own. */
const DIR_TIME = new Date(0);

/** GCS caps a V4 signature's lifetime at 7 days. */
const MAX_URL_LIFETIME = 7 * 24 * 3600;

/**
 * A Google Cloud Storage driver over @google-cloud/storage: Distribution's `storage.gcs`, with
 * uploads made of composed parts (see gcs-writer.ts and the README), directories synthesized
 * from `/`-delimited names, server-side moves through objects.rewrite, V4 signed URLs for
 * redirects, and every request retried on transient failures and capped in concurrency.
 */
export class GcsDriver implements StorageDriver, WriterHost {
	readonly name: string;
	readonly capabilities: DriverCapabilities;
	readonly api: BucketApi;
	readonly names: ObjectNames;
	readonly chunksize: number;
	readonly width: number;
	readonly session: SessionDeps;
	readonly storage: Storage;
	private readonly signer: UrlSigner | undefined;
	private readonly expiresIn: number;

	constructor(o: ResolvedOptions) {
		this.name = o.name;
		this.storage =
			o.storage ??
			new Storage({
				...(o.projectId !== undefined && { projectId: o.projectId }),
				...(o.apiEndpoint !== undefined && { apiEndpoint: o.apiEndpoint }),
				// A key file goes to the SDK as a file (any credential type it knows); inline
				// credentials as they are.
				...(o.keyfile !== undefined
					? { keyFilename: o.keyfile }
					: o.credentials !== undefined && { credentials: o.credentials }),
				...(o.useragent !== undefined && { userAgent: o.useragent }),
				// The driver retries itself (with preconditions where a retry could race).
				retryOptions: { autoRetry: false },
			});
		const limiter = new Limiter(o.maxconcurrency);
		this.api = new BucketApi(this.storage.bucket(o.bucket), limiter, o.retry);
		this.names = new ObjectNames(o.rootdirectory);
		this.chunksize = o.chunksize;
		this.width = Math.max(1, Math.min(32, o.maxconcurrency));
		this.session = { limiter, policy: o.retry, requestTimeoutMs: o.requestTimeoutMs };
		const key = o.credentials;
		if (o.redirect === false) this.signer = undefined;
		else if (key?.client_email && key.private_key) {
			this.signer = keySigner(key.client_email, key.private_key);
		} else if (o.redirect === true) this.signer = clientSigner(this.storage);
		this.expiresIn = o.redirectExpiresIn;
		this.capabilities = Object.freeze({
			redirect: this.signer !== undefined,
			serverSideMove: true,
			minPartSize: CHUNK_GRANULARITY,
			inProcess: false,
		});
	}

	/** Run an operation; whatever it throws leaves as a driver error (normalised here only). */
	private async run<T>(
		op: string,
		path: string,
		signal: AbortSignal | undefined,
		fn: () => Promise<T>,
	): Promise<T> {
		try {
			return await fn();
		} catch (err) {
			throw toDriverError(this.name, op, path, err, signal);
		}
	}

	getContent(path: string, options: OperationOptions = {}): Promise<Buffer> {
		const { signal } = options;
		return this.run("getContent", path, signal, async () => {
			const stream = await this.open(path, 0, signal);
			const parts: Buffer[] = [];
			for await (const chunk of stream) parts.push(chunk as Buffer);
			return Buffer.concat(parts);
		});
	}

	putContent(path: string, content: Uint8Array, options: OperationOptions = {}): Promise<void> {
		const { signal } = options;
		return this.run("putContent", path, signal, async () => {
			// One request replaces the object atomically; a retry sends the same bytes again.
			await this.api.upload(this.names.key(path), content, md5Base64(content), {}, signal);
		});
	}

	reader(path: string, offset = 0, options: OperationOptions = {}): Promise<Readable> {
		const { signal } = options;
		return this.run("reader", path, signal, () => this.open(path, offset, signal));
	}

	/** A download stream that the signal destroys (with the abort reason) while it is open. */
	private async open(path: string, offset: number, signal?: AbortSignal): Promise<Readable> {
		const stream = await this.api.openRead(this.names.key(path), offset, signal);
		if (signal) {
			const onAbort = () => stream.destroy(signal.reason as Error);
			signal.addEventListener("abort", onAbort, { once: true });
			stream.once("close", () => signal.removeEventListener("abort", onAbort));
		}
		return stream;
	}

	writer(path: string, options: WriterOptions = {}): Promise<FileWriter> {
		const { signal } = options;
		return this.run("writer", path, signal, () =>
			GcsWriter.open(this, path, options.append ?? false, signal),
		);
	}

	stat(path: string, options: OperationOptions = {}): Promise<FileInfo> {
		const { signal } = options;
		return this.run("stat", path, signal, async () => {
			if (path !== "/") {
				const obj = await this.api.stat(this.names.key(path), signal);
				if (obj) return { path, size: obj.size, modTime: obj.updated, isDir: false };
			}
			const page = await this.api.list({ prefix: this.names.below(path), maxResults: 1 }, signal);
			if (page.items.length > 0 || page.prefixes.length > 0) {
				return { path, size: 0, modTime: DIR_TIME, isDir: true };
			}
			throw new PathNotFoundError(this.name, path);
		});
	}

	list(path: string, options: OperationOptions = {}): Promise<string[]> {
		const { signal } = options;
		return this.run("list", path, signal, async () => {
			const prefix = this.names.below(path);
			const out: string[] = [];
			let found = false;
			let pageToken: string | undefined;
			do {
				const page = await this.api.list(
					{ prefix, delimiter: "/", ...(pageToken && { pageToken }) },
					signal,
				);
				for (const name of [...page.items.map((o) => o.name), ...page.prefixes]) {
					found = true;
					const rest = name.slice(prefix.length).replace(/\/$/, "");
					if (isVisibleComponent(rest)) out.push(joinPath(path, rest));
				}
				pageToken = page.nextPageToken;
			} while (pageToken);
			// Hidden objects (an upload in progress) keep a directory in existence, invisibly.
			if (!found) throw new PathNotFoundError(this.name, path);
			// A name can be both an object and a prefix (`a` and `a/b`): list it once.
			return [...new Set(out)].sort();
		});
	}

	move(sourcePath: string, destPath: string, options: OperationOptions = {}): Promise<void> {
		const { signal } = options;
		return this.run("move", sourcePath, signal, async () => {
			const from = this.names.key(sourcePath);
			const to = this.names.key(destPath);
			const source = await this.api.stat(from, signal);
			if (!source) throw new PathNotFoundError(this.name, sourcePath);
			const pinned = { name: from, generation: source.generation };
			let token: string | undefined;
			for (;;) {
				const step = await this.api.rewriteStep(pinned, to, token, signal);
				if (step.done) break;
				token = step.token;
			}
			try {
				// Only the generation we copied: a newer one written meanwhile stays.
				await this.api.remove(from, { ifGenerationMatch: source.generation }, signal);
			} catch (err) {
				if (!isPreconditionFailed(err)) throw err;
			}
		});
	}

	delete(path: string, options: OperationOptions = {}): Promise<void> {
		const { signal } = options;
		return this.run("delete", path, signal, async () => {
			let removed = 0;
			const removeAll = async (objects: ObjectInfo[]) =>
				forEachBounded(objects, this.width, async (o) => {
					if (await this.api.remove(o.name, {}, signal)) removed++;
				});
			// True subpaths only: the key itself, `<key>/…` and its hidden upload parts, never
			// `<key>suffix`.
			for (const prefix of [this.names.below(path), this.names.uploadPrefix(path)]) {
				for await (const page of this.api.listAll(prefix, signal)) await removeAll(page);
			}
			if (await this.api.remove(this.names.key(path), {}, signal)) removed++;
			if (removed === 0) throw new PathNotFoundError(this.name, path);
		});
	}

	redirectURL(path: string, options: RedirectOptions): Promise<string | undefined> {
		return this.run("redirectURL", path, options.signal, async () => {
			if (!this.signer) return undefined;
			const expiresIn = options.expiresIn ?? this.expiresIn;
			if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_URL_LIFETIME) {
				throw new Error(`expiresIn must be 1 to ${MAX_URL_LIFETIME} seconds, got ${expiresIn}`);
			}
			return signedUrl(
				this.signer,
				this.storage.apiEndpoint,
				this.api.bucket.name,
				this.names.key(path),
				options.method,
				expiresIn,
			);
		});
	}

	walk(path: string, fn: WalkFn, options: WalkOptions = {}): Promise<void> {
		const { signal } = options;
		return this.run("walk", path, signal, () => this.walkFlat(path, fn, options));
	}

	/**
	 * Walk by one flat listing of everything below `path`: names arrive in order, so each
	 * directory's entries are contiguous and a stack of open directories synthesizes each
	 * directory once, before its contents (full-key order, as Distribution's S3 walk).
	 */
	private async walkFlat(path: string, fn: WalkFn, options: WalkOptions): Promise<void> {
		const { signal, startAfter } = options;
		const base = this.names.below(path);
		let startOffset: string | undefined;
		if (startAfter !== undefined && isValidPath(startAfter)) {
			const key = this.names.key(startAfter);
			if (key > base) startOffset = key;
		}
		const open: string[] = [];
		let skipping: string | undefined;
		let seen = false;
		let pageToken: string | undefined;
		const visit = async (info: FileInfo): Promise<boolean> => {
			signal?.throwIfAborted();
			const control = await fn(info);
			signal?.throwIfAborted();
			if (control === "stop") return true;
			if (control === "skip" && info.isDir) skipping = `${info.path}/`;
			return false;
		};
		do {
			const page = await this.api.list(
				{
					prefix: base,
					...(pageToken && { pageToken }),
					...(startOffset !== undefined && { startOffset }),
				},
				signal,
			);
			for (const item of page.items) {
				seen = true;
				const { dirs, file } = this.names.entriesOf(path, base, item.name);
				const deepest = file ?? dirs.at(-1);
				if (skipping && deepest?.startsWith(skipping)) continue;
				skipping = undefined;
				let common = 0;
				while (common < open.length && common < dirs.length && open[common] === dirs[common])
					common++;
				open.length = common;
				for (const dir of dirs.slice(common)) {
					open.push(dir);
					if (await visit({ path: dir, size: 0, modTime: DIR_TIME, isDir: true })) return;
					if (skipping !== undefined) break;
				}
				if (skipping !== undefined || file === undefined) continue;
				if (await visit({ path: file, size: item.size, modTime: item.updated, isDir: false }))
					return;
			}
			pageToken = page.nextPageToken;
		} while (pageToken);
		if (!seen && path !== "/") {
			// Nothing at or after startAfter: the path may still exist.
			const probe = await this.api.list({ prefix: base, maxResults: 1 }, signal);
			if (probe.items.length === 0) throw new PathNotFoundError(this.name, path);
		}
	}
}

/** Build the driver from Distribution's `storage.gcs` parameters (plus apiEndpoint etc.). */
export function createGcsDriver(options: GcsDriverOptions): StorageDriver {
	return checkedDriver(new GcsDriver(resolveOptions(options)));
}
