import {
	HeadObjectCommand,
	ListObjectsV2Command,
	type ListObjectsV2CommandOutput,
} from "@aws-sdk/client-s3";
import { type FileInfo, joinPath, PathNotFoundError, type WalkFn } from "@stowage/core";
import type { DriverContext } from "./context.js";
import { isNotFound } from "./errors.js";
import { isValidName } from "./keys.js";

const EPOCH = new Date(0);

async function listPage(
	ctx: DriverContext,
	input: {
		Prefix: string;
		Delimiter?: string;
		MaxKeys?: number;
		StartAfter?: string;
		ContinuationToken?: string;
	},
	signal: AbortSignal | undefined,
): Promise<ListObjectsV2CommandOutput> {
	return ctx.client.send(new ListObjectsV2Command({ Bucket: ctx.bucket, ...input }), {
		abortSignal: signal,
	});
}

/** Every page of a listing; stops on a missing or repeated token instead of looping forever. */
export async function* listPages(
	ctx: DriverContext,
	input: { Prefix: string; Delimiter?: string; StartAfter?: string },
	signal: AbortSignal | undefined,
): AsyncGenerator<ListObjectsV2CommandOutput> {
	let token: string | undefined;
	for (;;) {
		const page = await listPage(ctx, { ...input, ContinuationToken: token }, signal);
		yield page;
		if (!page.IsTruncated || !page.NextContinuationToken || page.NextContinuationToken === token)
			return;
		token = page.NextContinuationToken;
	}
}

/** Whether anything at all is stored below the prefix (a "directory" exists). */
async function anyBelow(ctx: DriverContext, prefix: string, signal: AbortSignal | undefined) {
	const page = await listPage(ctx, { Prefix: prefix, MaxKeys: 1 }, signal);
	return page.Contents?.[0];
}

/** A file by HeadObject; otherwise a directory if any key lies below it. */
export async function statPath(
	ctx: DriverContext,
	path: string,
	signal: AbortSignal | undefined,
): Promise<FileInfo> {
	if (path !== "/") {
		try {
			const head = await ctx.client.send(
				new HeadObjectCommand({ Bucket: ctx.bucket, Key: ctx.keys.key(path) }),
				{
					abortSignal: signal,
				},
			);
			return {
				path,
				size: head.ContentLength ?? 0,
				modTime: head.LastModified ?? EPOCH,
				isDir: false,
			};
		} catch (err) {
			if (!isNotFound(err)) throw err;
		}
	}
	const below = await anyBelow(ctx, ctx.keys.dirPrefix(path), signal);
	if (!below) throw new PathNotFoundError(ctx.name, path);
	return { path, size: 0, modTime: below.LastModified ?? EPOCH, isDir: true };
}

/**
 * Direct children by ListObjectsV2 with a delimiter. Names no driver path can have (the upload
 * state tree, "directory marker" keys ending in `/`, keys from other tools) are left out.
 */
export async function listPath(
	ctx: DriverContext,
	path: string,
	signal: AbortSignal | undefined,
): Promise<string[]> {
	const prefix = ctx.keys.dirPrefix(path);
	const names = new Set<string>();
	let anything = false;
	for await (const page of listPages(ctx, { Prefix: prefix, Delimiter: "/" }, signal)) {
		for (const c of page.Contents ?? []) {
			anything = true;
			const name = (c.Key as string).slice(prefix.length);
			if (isValidName(name)) names.add(name);
		}
		for (const p of page.CommonPrefixes ?? []) {
			anything = true;
			const name = (p.Prefix as string).slice(prefix.length, -1);
			if (isValidName(name)) names.add(name);
		}
	}
	if (!anything && path !== "/") throw new PathNotFoundError(ctx.name, path);
	return [...names].sort(byBytes).map((n) => joinPath(path, n));
}

function byBytes(a: string, b: string): number {
	return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Walk with one flat listing (no delimiter): keys arrive in order, so each directory is
 * reported just before its first key, and a skipped directory's keys are jumped over by
 * restarting the listing after them. Keys that are not valid driver paths (empty components,
 * `dir/` markers, the upload state tree) never reach the callback and never crash the walk.
 */
export async function walkPath(
	ctx: DriverContext,
	from: string,
	fn: WalkFn,
	startAfter: string | undefined,
	signal: AbortSignal | undefined,
): Promise<void> {
	const prefix = ctx.keys.dirPrefix(from);
	let listStart =
		startAfter !== undefined && startAfter !== "/" ? ctx.keys.key(startAfter) : undefined;
	if (listStart !== undefined && listStart < prefix) listStart = undefined;
	/** Directories open at the current key, outermost first. */
	const open: string[] = [];
	let skipping: string | undefined;
	let seen = false;
	for (;;) {
		let restart: string | undefined;
		pages: for await (const page of listPages(
			ctx,
			{ Prefix: prefix, StartAfter: listStart },
			signal,
		)) {
			const contents = page.Contents ?? [];
			for (const object of contents) {
				seen = true;
				const key = object.Key as string;
				if (skipping !== undefined && key.startsWith(skipping)) continue;
				skipping = undefined;
				const parts = key.slice(prefix.length).split("/");
				const file = parts.pop() as string;
				if (!parts.every(isValidName) || (file !== "" && !isValidName(file))) continue;
				let skipped = false;
				for (let i = 0; i < parts.length; i++) {
					const dir = joinPath(i === 0 ? from : (open[i - 1] as string), parts[i] as string);
					if (open[i] === dir) continue;
					open.length = i;
					signal?.throwIfAborted();
					const control = await fn({
						path: dir,
						size: 0,
						modTime: object.LastModified ?? EPOCH,
						isDir: true,
					});
					if (control === "stop") return;
					if (control === "skip") {
						skipping = `${ctx.keys.key(dir)}/`;
						skipped = true;
						break;
					}
					open.push(dir);
				}
				if (skipped) {
					// Jump past the directory unless its keys end within this page anyway.
					const last = contents.at(-1)?.Key as string;
					if (page.IsTruncated && last.startsWith(skipping as string)) {
						restart = `${skipping}~`;
						break pages;
					}
					continue;
				}
				if (file === "") continue;
				open.length = parts.length;
				signal?.throwIfAborted();
				const path = joinPath(parts.length === 0 ? from : (open[parts.length - 1] as string), file);
				const control = await fn({
					path,
					size: object.Size ?? 0,
					modTime: object.LastModified ?? EPOCH,
					isDir: false,
				});
				if (control === "stop") return;
			}
		}
		if (restart === undefined) break;
		listStart = restart;
	}
	if (
		!seen &&
		from !== "/" &&
		(listStart === undefined || !(await anyBelow(ctx, prefix, signal)))
	) {
		throw new PathNotFoundError(ctx.name, from);
	}
}
