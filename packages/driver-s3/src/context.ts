import type { S3Client } from "@aws-sdk/client-s3";
import type { RetryPolicy } from "@stowage/core";
import type { KeySpace } from "./keys.js";
import type { ResolvedOptions } from "./options.js";

/** What every operation module needs: the client, the bucket and the driver's settings. */
export interface DriverContext {
	readonly name: string;
	readonly client: S3Client;
	readonly bucket: string;
	readonly keys: KeySpace;
	readonly options: ResolvedOptions;
	readonly retry: RetryPolicy;
	/**
	 * How a resume learns the parts of an upload: `ListParts` ("native"), or part markers the
	 * writer leaves in the state directory on stores without ListParts (s3rver). Probed once per
	 * driver instance, on its first multipart upload.
	 */
	readonly partListing: { mode: "unknown" | "native" | "markers" };
}

/** Storage class, encryption and ACL for every object and upload the driver creates. */
export function writeAttributes(o: ResolvedOptions): {
	StorageClass?: never;
	ServerSideEncryption?: "AES256" | "aws:kms";
	SSEKMSKeyId?: string;
	ACL?: never;
} {
	return {
		...(o.storageClass ? { StorageClass: o.storageClass as never } : {}),
		...o.encryption,
		...(o.acl ? { ACL: o.acl as never } : {}),
	};
}
