import {
	AnonymousCredential,
	BlobServiceClient,
	type ContainerClient,
	type StoragePipelineOptions,
	StorageRetryPolicyType,
	StorageSharedKeyCredential,
} from "@azure/storage-blob";
import { AzureConfigError, type AzureDriverOptions, type ResolvedAzureOptions } from "./options.js";
import { DelegationSigner, type SasSigner, SharedKeySigner } from "./sas.js";

/** What the driver talks to, built once on first use. */
export interface AzureClients {
	readonly container: ContainerClient;
	/** Signs read-only SAS URLs, when the credential can (a shared key or Azure AD). */
	readonly signer: SasSigner | undefined;
}

/** How requests are authorised; decided without I/O, so `capabilities` is known at once. */
export type CredentialKind = "shared_key" | "token" | "anonymous";

/** How the clients will be built; configuration errors are thrown when planning, at once. */
export interface ClientPlan {
	readonly kind: CredentialKind;
	/** Whether the clients built will have a SAS signer. */
	readonly canSign: boolean;
	build(): Promise<AzureClients>;
}

const DEFAULT_REALM = "core.windows.net";

export function planClients(
	options: AzureDriverOptions,
	resolved: ResolvedAzureOptions,
): ClientPlan {
	const pipeline: StoragePipelineOptions = {
		retryOptions: {
			retryPolicyType: StorageRetryPolicyType.EXPONENTIAL,
			maxTries: resolved.maxRetries + 1,
			retryDelayInMs: Math.max(1, resolved.retryDelayMs),
			maxRetryDelayInMs: Math.max(120_000, resolved.retryDelayMs),
		},
		userAgentOptions: { userAgentPrefix: "stowage" },
	};

	if (options.containerClient) {
		const container = options.containerClient;
		const signer = signerFor(container.credential, container.url);
		return {
			kind: kindOf(container.credential),
			canSign: signer !== undefined,
			build: async () => ({ container, signer }),
		};
	}

	const containerName = options.container?.trim();
	if (!containerName) throw new AzureConfigError("container is required");

	if (options.blobServiceClient) {
		const service = options.blobServiceClient;
		return planOf(service, containerName);
	}

	const type = options.credentials?.type;
	if (
		type !== undefined &&
		!["shared_key", "client_secret", "default_credentials"].includes(type)
	) {
		throw new AzureConfigError(
			`credentials.type must be shared_key, client_secret or default_credentials, got ${String(type)}`,
		);
	}

	if (options.connectionstring && (type === undefined || type === "shared_key")) {
		const connection = options.connectionstring;
		// The SDK parses it (and refuses a malformed one) here, so errors surface at once.
		const service = BlobServiceClient.fromConnectionString(connection, pipeline);
		return planOf(service, containerName);
	}

	if (type === "client_secret" || type === "default_credentials") {
		const serviceUrl = serviceUrlOf(options);
		const c = options.credentials ?? {};
		if (type === "client_secret" && (!c.tenantid || !c.clientid || !c.secret)) {
			throw new AzureConfigError(
				"credentials.type client_secret needs credentials.tenantid, clientid and secret",
			);
		}
		return {
			kind: "token",
			canSign: true,
			build: async () => {
				const identity = await loadIdentity(type);
				const credential =
					type === "client_secret"
						? new identity.ClientSecretCredential(
								c.tenantid as string,
								c.clientid as string,
								c.secret as string,
							)
						: new identity.DefaultAzureCredential();
				return clientsOf(new BlobServiceClient(serviceUrl, credential, pipeline), containerName);
			},
		};
	}

	if (!options.accountname || !options.accountkey) {
		throw new AzureConfigError(
			"set connectionstring, or accountname and accountkey, or credentials.type client_secret or default_credentials",
		);
	}
	const credential = new StorageSharedKeyCredential(options.accountname, options.accountkey);
	return planOf(new BlobServiceClient(serviceUrlOf(options), credential, pipeline), containerName);
}

function planOf(service: BlobServiceClient, container: string): ClientPlan {
	const clients = clientsOf(service, container);
	return {
		kind: kindOf(service.credential),
		canSign: clients.signer !== undefined,
		build: async () => clients,
	};
}

function serviceUrlOf(options: AzureDriverOptions): string {
	if (options.serviceurl) return options.serviceurl.replace(/\/+$/, "");
	if (!options.accountname) {
		throw new AzureConfigError("accountname (or serviceurl) is required");
	}
	return `https://${options.accountname}.blob.${options.realm || DEFAULT_REALM}`;
}

function clientsOf(service: BlobServiceClient, container: string): AzureClients {
	return {
		container: service.getContainerClient(container),
		signer: signerFor(service.credential, service.url, service),
	};
}

type Credential = ContainerClient["credential"];

function isSharedKey(credential: Credential): credential is StorageSharedKeyCredential {
	// Duck-typed: an injected client may come from another copy of the SDK.
	return (
		credential instanceof StorageSharedKeyCredential ||
		typeof (credential as { computeHMACSHA256?: unknown }).computeHMACSHA256 === "function"
	);
}

function isToken(credential: Credential): boolean {
	return typeof (credential as { getToken?: unknown }).getToken === "function";
}

function kindOf(credential: Credential): CredentialKind {
	if (isSharedKey(credential)) return "shared_key";
	if (isToken(credential) && !(credential instanceof AnonymousCredential)) return "token";
	return "anonymous";
}

function signerFor(
	credential: Credential,
	url: string,
	service?: BlobServiceClient,
): SasSigner | undefined {
	const https = url.startsWith("https:");
	if (isSharedKey(credential)) return new SharedKeySigner(credential, https);
	// A user delegation key needs the service client; an injected container client has none.
	if (service && kindOf(credential) === "token") return new DelegationSigner(service, https);
	return undefined;
}

type TokenCredential = Exclude<Credential, StorageSharedKeyCredential | AnonymousCredential>;

/** The two classes used from @azure/identity (not a dependency: see loadIdentity). */
interface IdentityModule {
	ClientSecretCredential: new (
		tenantId: string,
		clientId: string,
		secret: string,
	) => TokenCredential;
	DefaultAzureCredential: new () => TokenCredential;
}

/** @azure/identity is optional: loaded only for the credential types that need it. */
async function loadIdentity(type: string): Promise<IdentityModule> {
	const specifier = "@azure/identity";
	try {
		return (await import(specifier)) as IdentityModule;
	} catch (err) {
		const code = (err as { code?: string }).code;
		const message = (err as { message?: string }).message ?? "";
		if (
			(code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") &&
			message.includes(specifier)
		) {
			throw new AzureConfigError(
				`credentials.type ${type} needs the package @azure/identity, which is not installed: add it next to @stowage/driver-azure (pnpm add @azure/identity)`,
				{ cause: err },
			);
		}
		throw err;
	}
}
