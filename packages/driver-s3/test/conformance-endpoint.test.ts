import { conformance } from "./conformance.js";

const MiB = 1024 * 1024;

// Any S3 endpoint named by STOWAGE_S3_ENDPOINT (with _REGION, _BUCKET, _ACCESS_KEY, _SECRET_KEY,
// _FORCE_PATH_STYLE): real S3, MinIO, R2, Ceph. Skipped, with that reason, when none is given.
conformance("endpoint", {
	suite: { largeFileSize: 256 * MiB, modTimeDelayMs: 1100 },
	listsUploads: true,
});
