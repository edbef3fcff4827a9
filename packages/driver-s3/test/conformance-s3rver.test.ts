import { conformance } from "./conformance.js";

const MiB = 1024 * 1024;

// s3rver keeps objects on disk and implements no ListParts, ListMultipartUploads or
// AbortMultipartUpload. The driver finds that out and records parts in its state directory
// instead, so every resume case runs here too; the ListParts path runs on the strict server.
// s3rver's ListObjectsV2 with a delimiter walks its directory tree one level only: keys two or
// more levels below the prefix produce no common prefix (prefix "r/", key "r/a/b/c": nothing).
// Its DeleteObject pruned emptied directories with a recursive rm after an emptiness check, so a
// PutObject landing between the two was deleted with them: a registry removing one upload while
// another starts beside it lost the new upload's startedat. patches/@20minutes__s3rver@5.0.0.patch
// (applied by pnpm at install) makes that an rmdir, which fails on a directory no longer empty.
const SHALLOW_DELIMITER =
	"s3rver's delimiter listing omits directories whose keys lie two levels down";

conformance("s3rver", {
	suite: {
		largeFileSize: 48 * MiB,
		modTimeDelayMs: 1100,
		concurrentWriters: 8,
		concurrentWriterSize: 4 * MiB,
	},
	lacks: [
		[/^list: missing path, root, and 50 sorted children$/, SHALLOW_DELIMITER],
		// Its final check lists blobs/sha256/ and each two-hex-digit directory below it.
		[/^upload engine: faults: random faults on every call/, SHALLOW_DELIMITER],
		// Its filesystem store writes an object in place, so a concurrent GET can read a mix.
		[
			/^concurrent putContent to one path is atomic$/,
			"s3rver overwrites objects in place, not atomically",
		],
	],
	shallowDelimiter: SHALLOW_DELIMITER,
	listsUploads: false,
});
