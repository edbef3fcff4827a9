import { conformance } from "./conformance.js";

const MiB = 1024 * 1024;

// The strict server implements every operation the driver uses: the whole of both suites runs.
conformance("strict", {
	suite: { largeFileSize: 128 * MiB, modTimeDelayMs: 1100 },
	listsUploads: true,
});
