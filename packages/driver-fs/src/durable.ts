import * as fsp from "node:fs/promises";
import { hasCode } from "./fs-errors.js";

/**
 * fsync a directory so the entries created or renamed in it survive a crash. Filesystems that
 * cannot fsync a directory answer EINVAL (or EISDIR/EPERM); there is nothing more to do there.
 */
export async function fsyncDir(dir: string): Promise<void> {
	let handle: fsp.FileHandle;
	try {
		handle = await fsp.open(dir, "r");
	} catch (err) {
		// Removed meanwhile (a concurrent delete): nothing left to make durable.
		if (hasCode(err, "ENOENT")) return;
		throw err;
	}
	try {
		await handle.sync();
	} catch (err) {
		if (!hasCode(err, "EINVAL", "EISDIR", "EPERM", "ENOTSUP")) throw err;
	} finally {
		await handle.close();
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

/** Close, swallowing errors: used on paths that are already failing or discarding. */
export async function closeQuietly(handle: fsp.FileHandle | undefined): Promise<void> {
	try {
		await handle?.close();
	} catch {
		// The original failure matters more than a failed close.
	}
}
