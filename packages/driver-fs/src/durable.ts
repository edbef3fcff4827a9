import { close, fsync, open, write } from "node:fs";
import type * as fsp from "node:fs/promises";
import { promisify } from "node:util";
import { hasCode } from "./fs-errors.js";

// Promise forms of the raw-descriptor calls: cheaper per call than FileHandle (see fsyncDir).
export const openFd = promisify(open);
export const fsyncFd = promisify(fsync);
export const closeFd = promisify(close);
const writeFd = promisify(write);

/**
 * fsync a directory so the entries created or renamed in it survive a crash. Filesystems that
 * cannot fsync a directory answer EINVAL (or EISDIR/EPERM); there is nothing more to do there.
 * Raw descriptors, not a FileHandle: this runs several times per blob push, and a FileHandle
 * (an event emitter with a GC finaliser) costs the main thread noticeably more per call.
 */
export async function fsyncDir(dir: string): Promise<void> {
	let fd: number;
	try {
		fd = await openFd(dir, "r");
	} catch (err) {
		// Removed meanwhile (a concurrent delete): nothing left to make durable.
		if (hasCode(err, "ENOENT")) return;
		throw err;
	}
	try {
		await fsyncFd(fd);
	} catch (err) {
		if (!hasCode(err, "EINVAL", "EISDIR", "EPERM", "ENOTSUP")) throw err;
	} finally {
		await closeFd(fd);
	}
}

/** Write all of `data` at `position`, looping over short writes. */
export async function writeAll(
	handle: fsp.FileHandle,
	data: Uint8Array,
	position: number,
): Promise<void> {
	let done = 0;
	while (done < data.length) {
		const { bytesWritten } = await handle.write(data, done, data.length - done, position + done);
		done += bytesWritten;
	}
}

/** Write all of `data` at offset 0 of a raw descriptor; `beforeWrite` may throw to stop (abort). */
export async function writeAllFd(
	fd: number,
	data: Uint8Array,
	beforeWrite: () => void = () => undefined,
): Promise<void> {
	let done = 0;
	while (done < data.length) {
		beforeWrite();
		done += (await writeFd(fd, data, done, data.length - done, done)).bytesWritten;
	}
}

/** Close, swallowing errors: used on paths that are already failing or discarding. */
export async function closeQuietly(handle: fsp.FileHandle | undefined): Promise<void> {
	try {
		await handle?.close();
	} catch {
		// The original failure matters more than a failed close.
	}
}
