import {
	BlobSASPermissions,
	type BlobServiceClient,
	generateBlobSASQueryParameters,
	SASProtocol,
	type StorageSharedKeyCredential,
	type UserDelegationKey,
} from "@azure/storage-blob";

/** Signs read-only SAS tokens for single blobs (redirect URLs and copy sources). */
export interface SasSigner {
	/** The query string (without `?`) granting read access to one blob until `expiresOn`. */
	sign(container: string, blobName: string, expiresOn: Date): Promise<string>;
}

function readOnly(container: string, blobName: string, expiresOn: Date, https: boolean) {
	return {
		containerName: container,
		blobName,
		permissions: BlobSASPermissions.parse("r"),
		expiresOn,
		// Plain HTTP only when the service itself is (the emulator); never downgrade HTTPS.
		protocol: https ? SASProtocol.Https : SASProtocol.HttpsAndHttp,
	};
}

/** Signed with the account key: no request needed. */
export class SharedKeySigner implements SasSigner {
	constructor(
		private readonly credential: StorageSharedKeyCredential,
		private readonly https: boolean,
	) {}

	async sign(container: string, blobName: string, expiresOn: Date): Promise<string> {
		const values = readOnly(container, blobName, expiresOn, this.https);
		return generateBlobSASQueryParameters(values, this.credential).toString();
	}
}

const DAY_MS = 24 * 3600 * 1000;
/** Azure accepts user delegation keys valid for at most 7 days. */
const KEY_LIFETIME_MS = 7 * DAY_MS - 60_000;

/**
 * Signed with a user delegation key (Azure AD credentials, as Distribution does): the key is
 * fetched once and reused until a SAS would outlive it. The identity needs a role that grants
 * `generateUserDelegationKey` (e.g. Storage Blob Delegator).
 */
export class DelegationSigner implements SasSigner {
	private key: Promise<UserDelegationKey> | undefined;

	constructor(
		private readonly service: BlobServiceClient,
		private readonly https: boolean,
	) {}

	async sign(container: string, blobName: string, expiresOn: Date): Promise<string> {
		const key = await this.keyValidUntil(expiresOn);
		const values = readOnly(container, blobName, expiresOn, this.https);
		return generateBlobSASQueryParameters(values, key, this.service.accountName).toString();
	}

	private async keyValidUntil(expiresOn: Date): Promise<UserDelegationKey> {
		const current = this.key && (await this.key.catch(() => undefined));
		if (current && current.signedExpiresOn.getTime() >= expiresOn.getTime()) return current;
		const now = Date.now();
		// Start a little in the past: the service's clock may be behind this machine's.
		const request = this.service.getUserDelegationKey(
			new Date(now - 5 * 60_000),
			new Date(Math.max(now + KEY_LIFETIME_MS, expiresOn.getTime())),
		);
		this.key = request;
		return request;
	}
}
