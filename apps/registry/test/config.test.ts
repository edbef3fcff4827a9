import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, parseAddr, parseDuration } from "../src/config.js";

async function file(text: string): Promise<string> {
	const dir = await mkdtemp(join(tmpdir(), "stowage-config-"));
	const path = join(dir, "config.yml");
	await writeFile(path, text);
	return path;
}

describe("defaults", () => {
	it("no file: filesystem under ./data on 127.0.0.1:5000", () => {
		const c = loadConfig(undefined, {});
		expect(c.http).toMatchObject({ host: "127.0.0.1", port: 5000, baseUrl: "" });
		expect(c.storage.driver).toEqual({
			name: "filesystem",
			params: { rootdirectory: resolve("./data") },
		});
		expect(c.storage).toMatchObject({ deleteEnabled: false, redirect: true, readOnly: false });
		expect(c.storage.uploadPurging).toEqual({
			enabled: true,
			age: 168 * 3600_000,
			interval: 24 * 3600_000,
			dryRun: false,
		});
		expect(c.log.level).toBe("info");
		expect(c.warnings).toEqual([]);
	});
});

describe("Distribution's config.yml", () => {
	it("reads the supported keys", async () => {
		const c = loadConfig(
			await file(`
version: 0.1
log:
  level: debug
  fields:
    service: registry
  accesslog:
    disabled: true
http:
  addr: :5001
  host: https://registry.example.com/
  headers:
    X-Content-Type-Options: [nosniff]
  draintimeout: 5s
storage:
  filesystem:
    rootdirectory: /var/lib/registry
  delete:
    enabled: true
  redirect:
    disable: true
  maintenance:
    uploadpurging:
      enabled: true
      age: 1h30m
      interval: 10m
      dryrun: true
    readonly:
      enabled: true
catalog:
  maxentries: 50
`),
			{},
		);
		expect(c.log).toEqual({ level: "debug", fields: { service: "registry" }, accessLog: false });
		expect(c.http).toEqual({
			host: "0.0.0.0",
			port: 5001,
			baseUrl: "https://registry.example.com",
			headers: { "X-Content-Type-Options": ["nosniff"] },
			drainTimeout: 5000,
		});
		expect(c.storage).toEqual({
			driver: { name: "filesystem", params: { rootdirectory: "/var/lib/registry" } },
			deleteEnabled: true,
			redirect: false,
			readOnly: true,
			uploadPurging: { enabled: true, age: 5_400_000, interval: 600_000, dryRun: true },
			garbageCollect: {
				enabled: false,
				interval: 86_400_000,
				grace: 3_600_000,
				deleteUntagged: false,
				dryRun: false,
			},
		});
		expect(c.catalog.maxEntries).toBe(50);
	});

	it("passes cloud driver parameters through as written", async () => {
		const c = loadConfig(
			await file(`
storage:
  s3:
    bucket: images
    region: eu-west-1
    chunksize: 10485760
    forcepathstyle: true
`),
			{},
		);
		expect(c.storage.driver).toEqual({
			name: "s3",
			params: { bucket: "images", region: "eu-west-1", chunksize: 10485760, forcepathstyle: true },
		});
	});

	it("accepts inmemory with no parameters", async () => {
		const c = loadConfig(await file("storage:\n  inmemory:\n"), {});
		expect(c.storage.driver).toEqual({ name: "inmemory", params: {} });
	});

	it("accepts keys Stowage does not need, with a warning", async () => {
		const c = loadConfig(
			await file(`
http:
  secret: asecretforlocaldevelopment
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: /tmp/x
    maxthreads: 100
health:
  storagedriver:
    enabled: true
`),
			{},
		);
		expect(c.warnings.join("\n")).toMatch(/http\.secret/);
		expect(c.warnings.join("\n")).toMatch(/storage\.cache/);
		expect(c.warnings.join("\n")).toMatch(/maxthreads/);
		expect(c.warnings.join("\n")).toMatch(/health/);
	});

	it.each([
		["stroage:\n  inmemory: {}\n", /unknown configuration key stroage/],
		[
			"storage:\n  inmemory: {}\n  delete:\n    enable: true\n",
			/unknown configuration key storage\.delete\.enable/,
		],
		[
			"storage:\n  delete:\n    enabled: yes please\n",
			/storage\.delete\.enabled: expected true or false, got "yes please"/,
		],
		["http:\n  addr: nowhere\n", /http\.addr: expected host:port/],
		["http:\n  addr: :99999\n", /http\.addr/],
		["http:\n  host: registry.example.com\n", /http\.host: expected an http\(s\) URL/],
		["log:\n  level: loud\n", /log\.level: expected one of/],
		["version: 2\n", /version: expected 0\.1/],
		[
			"storage:\n  maintenance:\n    uploadpurging:\n      age: 7 days\n",
			/uploadpurging\.age: expected a duration/,
		],
		[
			"storage:\n  filesystem:\n    rootdir: /x\n",
			/unknown configuration key storage\.filesystem\.rootdir/,
		],
		["storage:\n  filesystem: {}\n  s3: {bucket: b}\n", /exactly one driver.*filesystem and s3/],
		["auth:\n  htpasswd:\n    realm: x\n", /^auth\.htpasswd\.path is required/],
		["http:\n  tls:\n    certificate: /c\n", /^http\.tls\.key is required/],
		["- a list\n", /must be a YAML mapping/],
		["key: [unclosed\n", /not valid YAML/],
		["catalog:\n  maxentries: -1\n", /catalog\.maxentries: expected a positive integer/],
	])("refuses %j", async (text, message) => {
		const path = await file(text);
		expect(() => loadConfig(path, {})).toThrow(ConfigError);
		expect(() => loadConfig(path, {})).toThrow(message);
	});

	it("names a missing file", () => {
		expect(() => loadConfig("/nonexistent/config.yml", {})).toThrow(/cannot read config file/);
	});
});

describe("environment overrides", () => {
	it("REGISTRY_<PATH> overrides the file, values parsed as YAML scalars", async () => {
		const path = await file("storage:\n  filesystem:\n    rootdirectory: /from/file\n");
		const c = loadConfig(path, {
			REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: "/from/env",
			REGISTRY_STORAGE_DELETE_ENABLED: "true",
			REGISTRY_HTTP_ADDR: "127.0.0.1:6000",
			REGISTRY_LOG_LEVEL: "warn",
			REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_AGE: "2h",
		});
		expect(c.storage.driver.params.rootdirectory).toBe("/from/env");
		expect(c.storage.deleteEnabled).toBe(true);
		expect(c.http.port).toBe(6000);
		expect(c.log.level).toBe("warn");
		expect(c.storage.uploadPurging.age).toBe(7_200_000);
	});

	it("REGISTRY_STORAGE selects the driver; driver keys may contain underscores", () => {
		const c = loadConfig(undefined, {
			REGISTRY_STORAGE: "azure",
			REGISTRY_STORAGE_AZURE_ACCOUNTNAME: "acct",
			REGISTRY_STORAGE_AZURE_MAX_RETRIES: "5",
		});
		expect(c.storage.driver).toEqual({
			name: "azure",
			params: { accountname: "acct", max_retries: 5 },
		});
	});

	it("a bad value from the environment names the key", () => {
		expect(() => loadConfig(undefined, { REGISTRY_STORAGE_DELETE_ENABLED: "maybe" })).toThrow(
			/storage\.delete\.enabled/,
		);
	});

	it("an environment variable naming no key is a warning, not a failure", () => {
		const c = loadConfig(undefined, { REGISTRY_URL: "https://elsewhere", PATH: "/bin" });
		expect(c.warnings).toEqual([
			"environment variable REGISTRY_URL names no configuration key; ignored",
		]);
	});
});

describe("CLI flags", () => {
	it("override file and environment", async () => {
		const path = await file("http:\n  addr: :5001\nstorage:\n  s3:\n    bucket: b\n");
		const c = loadConfig(
			path,
			{ REGISTRY_HTTP_ADDR: ":5002" },
			{ addr: "127.0.0.1:5003", root: "/flag/root", logLevel: "error", deleteEnabled: true },
		);
		expect(c.http.port).toBe(5003);
		expect(c.storage.driver).toEqual({
			name: "filesystem",
			params: { rootdirectory: "/flag/root" },
		});
		expect(c.log.level).toBe("error");
		expect(c.storage.deleteEnabled).toBe(true);
		expect(loadConfig(path, {}, { inmemory: true }).storage.driver.name).toBe("inmemory");
		expect(() => loadConfig(undefined, {}, { addr: "bad" })).toThrow(/http\.addr/);
	});
});

describe("value parsers", () => {
	it("parses Go durations", () => {
		expect(parseDuration("168h")).toBe(604_800_000);
		expect(parseDuration("1h30m")).toBe(5_400_000);
		expect(parseDuration("500ms")).toBe(500);
		expect(parseDuration("1.5s")).toBe(1500);
		expect(parseDuration("0")).toBe(0);
		for (const bad of ["", "10", "h", "1d", "1h 30m"]) expect(parseDuration(bad)).toBeUndefined();
	});

	it("parses listen addresses", () => {
		expect(parseAddr(":5000")).toEqual({ host: "0.0.0.0", port: 5000 });
		expect(parseAddr("localhost:80")).toEqual({ host: "localhost", port: 80 });
		expect(parseAddr("[::1]:5000")).toEqual({ host: "::1", port: 5000 });
		for (const bad of ["5000", "a:b", ":70000", "[::1]"]) expect(parseAddr(bad)).toBeUndefined();
	});
});
