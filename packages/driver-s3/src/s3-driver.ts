import type { Readable } from "node:stream";
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import {
	checkedDriver,
	DEFAULT_RETRY_POLICY,
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
import { buildClient } from "./client.js";
import { type DriverContext, writeAttributes } from "./context.js";
import { deletePath } from "./delete.js";
import { toDriverError } from "./errors.js";
import { KeySpace } from "./keys.js";
import { listPath, statPath, walkPath } from "./listing.js";
import { movePath } from "./move.js";
import { type ResolvedOptions, resolveOptions, type S3DriverOptions } from "./options.js";
import { openReader } from "./reader.js";
import { presign } from "./redirect.js";
import { readObject } from "./transfer.js";
import { openWriter } from "./writer.js";

/**
 * Build the driver from Distribution's `storage.s3` options (or with an injected `client`),
 * wrapped by core's checkedDriver like every driver.
 */
export function createS3Driver(options: S3DriverOptions): StorageDriver {
	return checkedDriver(new S3Driver(options));
}

export class S3Driver implements StorageDriver {
	readonly name: string;
	readonly capabilities: DriverCapabilities;
	readonly options: ResolvedOptions;
	readonly client: S3Client;
	private readonly ctx: DriverContext;
	private presigner: S3Client | undefined;

	constructor(options: S3DriverOptions) {
		this.options = resolveOptions(options);
		this.name = this.options.name;
		this.client = this.options.client ?? buildClient(this.options);
		this.capabilities = {
			redirect: true,
			serverSideMove: true,
			minPartSize: this.options.minChunkSize,
			inProcess: false,
		};
		this.ctx = {
			name: this.name,
			client: this.client,
			bucket: this.options.bucket,
			keys: new KeySpace(this.options.rootDirectory),
			options: this.options,
			retry: { ...DEFAULT_RETRY_POLICY, maxAttempts: this.options.maxAttempts },
			partListing: { mode: "unknown" },
		};
	}

	getContent(path: string, options?: OperationOptions): Promise<Buffer> {
		return this.op("getContent", path, options, () =>
			readObject(this.ctx, this.ctx.keys.key(path), options?.signal),
		);
	}

	putContent(path: string, content: Uint8Array, options?: OperationOptions): Promise<void> {
		return this.op("putContent", path, options, async () => {
			await this.client.send(
				new PutObjectCommand({
					Bucket: this.ctx.bucket,
					Key: this.ctx.keys.key(path),
					Body: content,
					ContentLength: content.length,
					...writeAttributes(this.options),
				}),
				{ abortSignal: options?.signal },
			);
		});
	}

	reader(path: string, offset = 0, options?: OperationOptions): Promise<Readable> {
		return this.op("reader", path, options, () =>
			openReader(this.ctx, this.ctx.keys.key(path), offset, options?.signal),
		);
	}

	writer(path: string, options?: WriterOptions): Promise<FileWriter> {
		return this.op("writer", path, options, () =>
			openWriter(this.ctx, path, options?.append === true, options?.signal),
		);
	}

	stat(path: string, options?: OperationOptions): Promise<FileInfo> {
		return this.op("stat", path, options, () => statPath(this.ctx, path, options?.signal));
	}

	list(path: string, options?: OperationOptions): Promise<string[]> {
		return this.op("list", path, options, () => listPath(this.ctx, path, options?.signal));
	}

	move(sourcePath: string, destPath: string, options?: OperationOptions): Promise<void> {
		return this.op("move", sourcePath, options, () =>
			movePath(this.ctx, sourcePath, destPath, options?.signal),
		);
	}

	delete(path: string, options?: OperationOptions): Promise<void> {
		return this.op("delete", path, options, () => deletePath(this.ctx, path, options?.signal));
	}

	redirectURL(path: string, options: RedirectOptions): Promise<string | undefined> {
		return this.op("redirectURL", path, options, () => {
			this.presigner ??= this.options.redirectEndpoint
				? buildClient(this.options, this.options.redirectEndpoint)
				: this.client;
			return presign(
				this.ctx,
				this.presigner,
				this.ctx.keys.key(path),
				options.method,
				options.expiresIn ?? this.options.redirectExpiry,
			);
		});
	}

	walk(path: string, fn: WalkFn, options?: WalkOptions): Promise<void> {
		return this.op("walk", path, options, () =>
			walkPath(this.ctx, path, fn, options?.startAfter, options?.signal),
		);
	}

	/** Every SDK error leaves the driver through one normalisation (see errors.ts). */
	private async op<T>(
		op: string,
		path: string,
		options: OperationOptions | undefined,
		fn: () => Promise<T>,
	): Promise<T> {
		try {
			return await fn();
		} catch (err) {
			if (err instanceof PathNotFoundError) throw err;
			throw toDriverError(this.name, op, path, err, options?.signal);
		}
	}
}
