import {
	BlobServiceClient,
	ContainerClient,
	StorageSharedKeyCredential,
} from "@azure/storage-blob";
import { describe, expect, it } from "vitest";
import { AzureConfigError, createAzureDriver, parseDuration } from "../src/index.js";
import { normalizeRoot, resolveOptions } from "../src/options.js";
import { AZURITE_KEY } from "./azurite.js";

const MiB = 1024 * 1024;
const key = AZURITE_KEY;

describe("options: Distribution's storage.azure keys", () => {
	it("defaults", () => {
		expect(resolveOptions({ container: "c" })).toEqual({
			name: "azure",
			prefix: "",
			blockSize: 16 * MiB,
			syncCopyMaxSize: 256 * MiB,
			redirectExpirySeconds: 1200,
			maxRetries: 5,
			retryDelayMs: 100,
			deleteConcurrency: 16,
		});
	});

	it("accepts a config.yml section as parsed, strings from environment overrides included", () => {
		const r = resolveOptions({
			accountname: "acct",
			accountkey: key,
			container: "registry",
			rootdirectory: "/docker/",
			max_retries: "3",
			retry_delay: "250ms",
			skipverify: "false",
			blocksize: String(8 * MiB),
			redirectexpiry: "5m",
		});
		expect(r).toMatchObject({
			prefix: "docker/",
			maxRetries: 3,
			retryDelayMs: 250,
			blockSize: 8 * MiB,
			redirectExpirySeconds: 300,
		});
	});

	it("parses Go durations and plain milliseconds", () => {
		expect(parseDuration("d", "1m30s")).toBe(90_000);
		expect(parseDuration("d", "1.5s")).toBe(1500);
		expect(parseDuration("d", "500us")).toBe(0.5);
		expect(parseDuration("d", 42)).toBe(42);
		expect(parseDuration("d", "42")).toBe(42);
		expect(() => parseDuration("d", "soon")).toThrow(AzureConfigError);
	});

	it("normalises the root directory", () => {
		expect(normalizeRoot(undefined)).toBe("");
		expect(normalizeRoot("/")).toBe("");
		expect(normalizeRoot("a//b/")).toBe("a/b/");
		expect(() => normalizeRoot("a/../b")).toThrow(AzureConfigError);
	});

	it("refuses what it cannot honour, before any I/O", () => {
		const base = { accountname: "acct", accountkey: key, container: "c" };
		expect(() => createAzureDriver({ ...base, container: undefined })).toThrow(/container/);
		expect(() => createAzureDriver({ ...base, skipverify: true })).toThrow(/skipverify/);
		expect(() => createAzureDriver({ ...base, blocksize: 1000 })).toThrow(/blocksize/);
		expect(() => createAzureDriver({ ...base, blocksize: 5000 * MiB })).toThrow(/blocksize/);
		expect(() => createAzureDriver({ ...base, synccopymaxsize: 300 * MiB })).toThrow(/256/);
		expect(() => createAzureDriver({ container: "c" })).toThrow(/connectionstring/);
		expect(() =>
			createAzureDriver({ ...base, credentials: { type: "oauth" as "shared_key" } }),
		).toThrow(/credentials.type/);
		expect(() =>
			createAzureDriver({
				container: "c",
				accountname: "a",
				credentials: { type: "client_secret" },
			}),
		).toThrow(/tenantid/);
		expect(() => createAzureDriver({ container: "c", connectionstring: "nonsense" })).toThrow();
	});

	it("builds the service URL from accountname and realm, or takes serviceurl", async () => {
		const china = createAzureDriver({
			accountname: "acct",
			accountkey: key,
			container: "c",
			realm: "core.chinacloudapi.cn",
			rootdirectory: "root",
		});
		const url = new URL((await china.redirectURL("/x/y", { method: "GET" })) as string);
		expect(url.origin).toBe("https://acct.blob.core.chinacloudapi.cn");
		expect(url.pathname).toBe("/c/root/x/y");
		expect(url.searchParams.get("spr")).toBe("https");
		const custom = createAzureDriver({
			accountname: "acct",
			accountkey: key,
			container: "c",
			serviceurl: "http://127.0.0.1:1/acct/",
		});
		const local = new URL((await custom.redirectURL("/x", { method: "HEAD" })) as string);
		expect(local.href.startsWith("http://127.0.0.1:1/acct/c/x?")).toBe(true);
		expect(local.searchParams.get("spr")).toBe("https,http");
	});

	it("credentials that need @azure/identity name the missing package", async () => {
		const driver = createAzureDriver({
			accountname: "acct",
			container: "c",
			credentials: { type: "default_credentials" },
		});
		// Azure AD credentials can sign user delegation SAS URLs.
		expect(driver.capabilities.redirect).toBe(true);
		const err = await driver.stat("/x").catch((e: unknown) => e);
		expect(String((err as Error).message)).toContain("@azure/identity");
		expect((err as Error).cause).toBeInstanceOf(AzureConfigError);
	});

	it("an injected client's credential decides what the driver can sign", () => {
		const token = {
			getToken: async () => ({ token: "t", expiresOnTimestamp: Date.now() + 3_600_000 }),
		};
		const url = "https://acct.blob.core.windows.net";
		const keyed = new ContainerClient(`${url}/c`, new StorageSharedKeyCredential("acct", key));
		expect(createAzureDriver({ containerClient: keyed }).capabilities.redirect).toBe(true);
		// A user delegation key is asked of the service, which a container client does not reach.
		const tokenContainer = new ContainerClient(`${url}/c`, token);
		expect(createAzureDriver({ containerClient: tokenContainer }).capabilities.redirect).toBe(
			false,
		);
		const tokenService = new BlobServiceClient(url, token);
		expect(
			createAzureDriver({ blobServiceClient: tokenService, container: "c" }).capabilities.redirect,
		).toBe(true);
	});
});
