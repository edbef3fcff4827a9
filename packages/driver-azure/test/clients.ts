import {
	BlobServiceClient,
	ContainerClient,
	newPipeline,
	type RequestPolicy,
	type RequestPolicyFactory,
	StorageSharedKeyCredential,
	type WebResource,
} from "@azure/storage-blob";
import type { AzureTarget } from "./target.js";

/** A raw SDK client on the test container, to look at what the driver left in Azure. */
export function rawContainer(target: AzureTarget): ContainerClient {
	const service = target.connectionString
		? BlobServiceClient.fromConnectionString(target.connectionString)
		: new BlobServiceClient(
				target.serviceUrl ?? `https://${target.accountName}.blob.core.windows.net`,
				new StorageSharedKeyCredential(target.accountName as string, target.accountKey as string),
			);
	return service.getContainerClient(target.container);
}

export interface RequestLog {
	requests: { method: string; url: string; bytes: number; syncCopy: boolean }[];
	/** Request body bytes sent. */
	uploaded(): number;
	reset(): void;
}

/**
 * A container client whose every request (before retries) is recorded: the tests use it to show
 * that small appends cost a constant number of requests and bytes, not a re-upload.
 */
export function countingContainer(target: AzureTarget): {
	container: ContainerClient;
	log: RequestLog;
} {
	const raw = rawContainer(target);
	const requests: RequestLog["requests"] = [];
	const counter: RequestPolicyFactory = {
		create: (next: RequestPolicy): RequestPolicy => ({
			sendRequest: (request: WebResource) => {
				const length = Number(request.headers.get("Content-Length") ?? 0);
				requests.push({
					method: request.method,
					url: request.url,
					bytes: length || 0,
					syncCopy: request.headers.get("x-ms-requires-sync") === "true",
				});
				return next.sendRequest(request);
			},
		}),
	};
	const pipeline = newPipeline(raw.credential);
	pipeline.factories.unshift(counter);
	return {
		container: new ContainerClient(raw.url, pipeline),
		log: {
			requests,
			uploaded: () => requests.reduce((sum, r) => sum + r.bytes, 0),
			reset: () => {
				requests.length = 0;
			},
		},
	};
}
