import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import {
	type CollectorSettings,
	collectorSettings,
	type DebugSettings,
	debugSettings,
} from "./ops-config.js";
import { type RedisSettings, redisSettings } from "./redis-config.js";
import {
	type AuthSettings,
	authSettings,
	type TlsSettings,
	tlsSettings,
} from "./security-config.js";

/**
 * Configuration: Distribution's config.yml for the keys Stowage supports, overridden by
 * `REGISTRY_<SECTION>_<KEY>` environment variables, overridden by CLI flags. Every value is checked
 * here; a bad one stops start-up with a message naming the key. Keys Distribution has but Stowage
 * does not need (http.secret...) are accepted with a warning; keys whose absence would change
 * behaviour silently (middleware, proxy) are refused.
 */

export type DriverName = "filesystem" | "inmemory" | "s3" | "azure" | "gcs";
export const DRIVER_NAMES: readonly DriverName[] = ["filesystem", "inmemory", "s3", "azure", "gcs"];
export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

export interface StowageConfig {
	log: { level: LogLevel; fields: Record<string, string>; accessLog: boolean };
	http: {
		host: string;
		port: number;
		/** `http.host`: the base URL for Location headers ("" for absolute paths). */
		baseUrl: string;
		headers: Record<string, string[]>;
		/** How long shutdown waits for in-flight requests, in ms. */
		drainTimeout: number;
		/** `http.tls`: serve HTTPS (and mTLS with client CAs). */
		tls?: TlsSettings;
		/** `http.debug`: the metrics listener; none when absent. */
		debug?: DebugSettings;
	};
	/** `auth`: htpasswd or token; open when absent. */
	auth?: AuthSettings;
	/** `redis`: upload locks shared by replicas; in-process locks when absent. */
	redis?: RedisSettings;
	storage: {
		driver: { name: DriverName; params: Record<string, unknown> };
		deleteEnabled: boolean;
		redirect: boolean;
		readOnly: boolean;
		uploadPurging: { enabled: boolean; age: number; interval: number; dryRun: boolean };
		/** `storage.maintenance.garbagecollect`: collections inside the server. */
		garbageCollect: CollectorSettings;
	};
	catalog: { maxEntries: number };
	/** Keys accepted but without effect, and environment variables that named no key. */
	warnings: string[];
}

export class ConfigError extends Error {
	override name = "ConfigError";
}

type Leaf =
	| "string"
	| "boolean"
	| "duration"
	| "level"
	| "addr"
	| "url"
	| "version"
	| "count"
	| "formatter"
	| "strings"
	| "index";
/** Maps whose keys are the user's (driver parameters, header names, log fields). */
type MapKind = "params" | "headers" | "fields";
type Node =
	| { leaf: Leaf }
	| { map: MapKind }
	| { ignored: string }
	| { refused: string }
	| { fields: Record<string, Node> };

const leaf = (l: Leaf): Node => ({ leaf: l });
const ignored = (why: string): Node => ({ ignored: why });
const refused = (why: string): Node => ({ refused: why });

const SCHEMA: Node = {
	fields: {
		version: leaf("version"),
		log: {
			fields: {
				level: leaf("level"),
				formatter: leaf("formatter"),
				fields: { map: "fields" },
				accesslog: { fields: { disabled: leaf("boolean") } },
				hooks: ignored("log hooks are not supported"),
			},
		},
		http: {
			fields: {
				addr: leaf("addr"),
				host: leaf("url"),
				net: leaf("string"),
				headers: { map: "headers" },
				draintimeout: leaf("duration"),
				secret: ignored("upload URLs carry no state, so no secret is needed"),
				relativeurls: ignored("Location headers are absolute paths unless http.host is set"),
				debug: {
					fields: {
						addr: leaf("addr"),
						prometheus: { fields: { enabled: leaf("boolean"), path: leaf("string") } },
						tls: ignored("the debug server speaks plain HTTP: keep it on an internal address"),
					},
				},
				http2: ignored("HTTP/2 is not supported"),
				prefix: refused("a URL prefix is not supported"),
				tls: {
					fields: {
						certificate: leaf("string"),
						key: leaf("string"),
						clientcas: leaf("strings"),
						clientauth: leaf("string"),
						minimumtls: leaf("string"),
						ciphersuites: refused("cipher suites are not configurable: OpenSSL's defaults apply"),
						letsencrypt: refused("Let's Encrypt is not supported: give a certificate and key"),
					},
				},
			},
		},
		storage: {
			fields: {
				filesystem: { map: "params" },
				inmemory: { map: "params" },
				s3: { map: "params" },
				azure: { map: "params" },
				gcs: { map: "params" },
				delete: { fields: { enabled: leaf("boolean") } },
				redirect: { fields: { disable: leaf("boolean") } },
				maintenance: {
					fields: {
						uploadpurging: {
							fields: {
								enabled: leaf("boolean"),
								age: leaf("duration"),
								interval: leaf("duration"),
								dryrun: leaf("boolean"),
							},
						},
						readonly: { fields: { enabled: leaf("boolean") } },
						garbagecollect: {
							fields: {
								enabled: leaf("boolean"),
								interval: leaf("duration"),
								grace: leaf("duration"),
								deleteuntagged: leaf("boolean"),
								dryrun: leaf("boolean"),
							},
						},
					},
				},
				cache: ignored("no blob descriptor cache is used"),
				tag: ignored("tag concurrency is not configurable"),
			},
		},
		catalog: { fields: { maxentries: leaf("count") } },
		health: ignored("/healthz always checks the storage driver"),
		notifications: ignored("notifications are not supported"),
		reporting: ignored("error reporting services are not supported"),
		redis: {
			fields: {
				addr: leaf("addr"),
				username: leaf("string"),
				password: leaf("string"),
				db: leaf("index"),
				dialtimeout: leaf("duration"),
				readtimeout: leaf("duration"),
				writetimeout: leaf("duration"),
				tls: { fields: { enabled: leaf("boolean") } },
				pool: ignored("one connection per process is used"),
				locklease: leaf("duration"),
			},
		},
		validation: ignored("manifest URL validation is not configurable"),
		compatibility: ignored("schema 1 is not supported"),
		auth: {
			fields: {
				htpasswd: { fields: { realm: leaf("string"), path: leaf("string") } },
				token: {
					fields: {
						realm: leaf("url"),
						service: leaf("string"),
						issuer: leaf("string"),
						rootcertbundle: leaf("string"),
						jwks: leaf("string"),
						autoredirect: leaf("boolean"),
						autoredirectpath: leaf("string"),
						signingalgorithms: leaf("strings"),
					},
				},
				ratelimit: { fields: { failures: leaf("count"), window: leaf("duration") } },
				silly: refused("the silly access controller is for Distribution's tests only"),
			},
		},
		middleware: refused("middleware is not supported"),
		proxy: refused("pull-through cache mode is not supported"),
	},
};

const LEVELS: Record<string, LogLevel> = {
	panic: "fatal",
	fatal: "fatal",
	error: "error",
	warn: "warn",
	warning: "warn",
	info: "info",
	debug: "debug",
	trace: "trace",
	silent: "silent",
};

export interface CliOverrides {
	addr?: string;
	host?: string;
	logLevel?: string;
	/** Filesystem driver root; selects the filesystem driver. */
	root?: string;
	inmemory?: boolean;
	deleteEnabled?: boolean;
	readOnly?: boolean;
}

type Tree = Record<string, unknown>;

/** Read, merge and validate. `file` undefined means no file: defaults, env and flags only. */
export function loadConfig(
	file: string | undefined,
	env: NodeJS.ProcessEnv = process.env,
	cli: CliOverrides = {},
): StowageConfig {
	const warnings: string[] = [];
	let raw: Tree = {};
	if (file !== undefined) {
		let text: string;
		try {
			text = readFileSync(file, "utf8");
		} catch (err) {
			throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
		}
		let parsed: unknown;
		try {
			parsed = parseYaml(text);
		} catch (err) {
			throw new ConfigError(`config file ${file} is not valid YAML: ${(err as Error).message}`);
		}
		if (parsed !== null && parsed !== undefined && !isTree(parsed)) {
			throw new ConfigError(`config file ${file} must be a YAML mapping`);
		}
		raw = (parsed as Tree | null) ?? {};
	}
	applyEnv(raw, env, warnings);
	applyCli(raw, cli);
	const errors: string[] = [];
	check(SCHEMA, raw, "", errors, warnings);
	if (errors.length > 0) throw new ConfigError(errors.join("\n"));
	return build(raw, warnings);
}

/** REGISTRY_STORAGE_S3_BUCKET=x sets storage.s3.bucket; REGISTRY_STORAGE=s3 selects the driver. */
function applyEnv(raw: Tree, env: NodeJS.ProcessEnv, warnings: string[]): void {
	const names = Object.keys(env)
		.filter((n) => n.startsWith("REGISTRY_") && n !== "REGISTRY_CONFIGURATION_PATH")
		.sort();
	for (const name of names) {
		const value = env[name] ?? "";
		const tokens = name.slice("REGISTRY_".length).toLowerCase().split("_");
		const path = resolveEnvPath(tokens);
		if (!path) {
			warnings.push(`environment variable ${name} names no configuration key; ignored`);
			continue;
		}
		if (path.length === 1 && path[0] === "storage" && DRIVER_NAMES.includes(value as DriverName)) {
			const storage = isTree(raw.storage) ? raw.storage : {};
			for (const d of DRIVER_NAMES) delete storage[d];
			storage[value] = {};
			raw.storage = storage;
			continue;
		}
		setPath(raw, path, envValue(value, nodeAt(path)));
	}
}

/** Match env tokens against the schema; keys may themselves contain `_` (max_retries). */
function resolveEnvPath(tokens: string[]): string[] | undefined {
	const path: string[] = [];
	let node: Node | undefined = SCHEMA;
	let i = 0;
	while (i < tokens.length) {
		if (!node) return undefined;
		if ("map" in node || "ignored" in node) {
			path.push(tokens.slice(i).join("_"));
			return path;
		}
		if (!("fields" in node)) return undefined;
		let matched = false;
		for (let k = tokens.length; k > i; k--) {
			const key = tokens.slice(i, k).join("_");
			if (node.fields[key]) {
				path.push(key);
				node = node.fields[key];
				i = k;
				matched = true;
				break;
			}
		}
		if (!matched) return undefined;
	}
	return path;
}

function nodeAt(path: string[]): Node | undefined {
	let node: Node | undefined = SCHEMA;
	for (const key of path) {
		if (!node || !("fields" in node)) return node;
		node = node.fields[key];
	}
	return node;
}

/** Environment values are YAML scalars (true, 5000), except where a string is expected. */
function envValue(value: string, node: Node | undefined): unknown {
	if (node && "leaf" in node && ["string", "addr", "url", "duration"].includes(node.leaf)) {
		return value;
	}
	try {
		return parseYaml(value);
	} catch {
		return value;
	}
}

function applyCli(raw: Tree, cli: CliOverrides): void {
	if (cli.addr !== undefined) setPath(raw, ["http", "addr"], cli.addr);
	if (cli.host !== undefined) setPath(raw, ["http", "host"], cli.host);
	if (cli.logLevel !== undefined) setPath(raw, ["log", "level"], cli.logLevel);
	if (cli.deleteEnabled) setPath(raw, ["storage", "delete", "enabled"], true);
	if (cli.readOnly) setPath(raw, ["storage", "maintenance", "readonly", "enabled"], true);
	if (cli.root !== undefined || cli.inmemory) {
		const storage = isTree(raw.storage) ? raw.storage : {};
		for (const d of DRIVER_NAMES) delete storage[d];
		if (cli.inmemory) storage.inmemory = {};
		else storage.filesystem = { rootdirectory: cli.root };
		raw.storage = storage;
	}
}

function setPath(raw: Tree, path: string[], value: unknown): void {
	let node = raw;
	for (const key of path.slice(0, -1)) {
		if (!isTree(node[key])) node[key] = {};
		node = node[key] as Tree;
	}
	node[path.at(-1) as string] = value;
}

function check(node: Node, value: unknown, key: string, errors: string[], warnings: string[]) {
	if ("ignored" in node) {
		warnings.push(`${key} is accepted and ignored: ${node.ignored}`);
		return;
	}
	if ("refused" in node) {
		errors.push(`${key}: ${node.refused}`);
		return;
	}
	if ("fields" in node) {
		if (value === null || value === undefined) return;
		if (!isTree(value)) {
			errors.push(`${key || "config"}: expected a mapping, got ${show(value)}`);
			return;
		}
		for (const [k, v] of Object.entries(value)) {
			const child = node.fields[k.toLowerCase()];
			const name = key ? `${key}.${k}` : k;
			if (!child) errors.push(`unknown configuration key ${name}`);
			else check(child, v, name, errors, warnings);
		}
		return;
	}
	if ("map" in node) {
		if (value === null || value === undefined) return;
		if (!isTree(value)) errors.push(`${key}: expected a mapping, got ${show(value)}`);
		else if (node.map === "fields") {
			for (const [k, v] of Object.entries(value)) {
				if (!isScalar(v)) errors.push(`${key}.${k}: expected a scalar, got ${show(v)}`);
			}
		} else if (node.map === "headers") {
			for (const [k, v] of Object.entries(value)) {
				const ok = isScalar(v) || (Array.isArray(v) && v.every(isScalar));
				if (!ok) errors.push(`${key}.${k}: expected a string or a list, got ${show(v)}`);
			}
		}
		return;
	}
	const problem = checkLeaf(node.leaf, value);
	if (problem) errors.push(`${key}: ${problem}, got ${show(value)}`);
}

function checkLeaf(kind: Leaf, value: unknown): string | undefined {
	switch (kind) {
		case "string":
			return typeof value === "string" ? undefined : "expected a string";
		case "boolean":
			return typeof value === "boolean" ? undefined : "expected true or false";
		case "duration":
			return typeof value === "string" && parseDuration(value) !== undefined
				? undefined
				: "expected a duration such as 168h, 30m or 10s";
		case "level":
			return typeof value === "string" && LEVELS[value.toLowerCase()]
				? undefined
				: "expected one of error, warn, info, debug";
		case "formatter":
			return value === "json" || value === "text" || value === "logstash"
				? undefined
				: "expected json";
		case "addr":
			return typeof value === "string" && parseAddr(value) ? undefined : "expected host:port";
		case "url":
			return typeof value === "string" && isHttpUrl(value)
				? undefined
				: "expected an http(s) URL such as https://registry.example.com";
		case "version":
			return value === "0.1" || value === 0.1 ? undefined : "expected 0.1";
		case "count":
			return typeof value === "number" && Number.isSafeInteger(value) && value > 0
				? undefined
				: "expected a positive integer";
		case "index":
			return typeof value === "number" && Number.isSafeInteger(value) && value >= 0
				? undefined
				: "expected a non-negative integer";
		case "strings":
			return Array.isArray(value) && value.every((v) => typeof v === "string")
				? undefined
				: "expected a list of strings";
	}
}

/** Go's time.ParseDuration syntax (168h, 1h30m, 500ms), in milliseconds. */
export function parseDuration(text: string): number | undefined {
	const units: Record<string, number> = {
		ns: 1e-6,
		us: 1e-3,
		µs: 1e-3,
		ms: 1,
		s: 1000,
		m: 60_000,
		h: 3_600_000,
	};
	if (text === "0") return 0;
	const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
	let total = 0;
	let at = 0;
	while (at < text.length) {
		re.lastIndex = at;
		const m = re.exec(text);
		if (!m) return undefined;
		total += Number(m[1]) * (units[m[2] as string] as number);
		at = re.lastIndex;
	}
	return at > 0 ? total : undefined;
}

/** `host:port`, `:port` (every interface) or `[v6]:port`. */
export function parseAddr(addr: string): { host: string; port: number } | undefined {
	const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(addr.trim());
	if (!m) return undefined;
	const port = Number(m[3]);
	if (port > 65535) return undefined;
	const host = m[1] ?? (m[2] || "0.0.0.0");
	return { host, port };
}

function isHttpUrl(value: string): boolean {
	try {
		const url = new URL(value);
		return (url.protocol === "http:" || url.protocol === "https:") && url.search === "";
	} catch {
		return false;
	}
}

/** Apply defaults to a checked tree. */
function build(raw: Tree, warnings: string[]): StowageConfig {
	const get = (...path: string[]): unknown => {
		let node: unknown = raw;
		for (const key of path) {
			if (!isTree(node)) return undefined;
			const match = Object.keys(node).find((k) => k.toLowerCase() === key);
			node = match === undefined ? undefined : node[match];
		}
		return node;
	};
	const storage = isTree(get("storage")) ? (get("storage") as Tree) : {};
	const drivers = DRIVER_NAMES.filter((d) => d in storage);
	if (drivers.length > 1) {
		throw new ConfigError(
			`storage: exactly one driver may be configured, found ${drivers.join(" and ")}`,
		);
	}
	const name = drivers[0] ?? "filesystem";
	const params = isTree(storage[name]) ? { ...(storage[name] as Tree) } : {};
	if (name === "filesystem") checkFilesystemParams(params, warnings);
	const net = get("http", "net");
	if (net !== undefined && net !== "tcp") {
		throw new ConfigError(`http.net: only tcp is supported, got ${show(net)}`);
	}
	const formatter = get("log", "formatter");
	if (formatter !== undefined && formatter !== "json") {
		warnings.push(`log.formatter ${show(formatter)} is not supported; logs are JSON`);
	}
	const duration = (value: unknown, fallback: string) =>
		parseDuration(typeof value === "string" ? value : fallback) as number;
	const addr = parseAddr((get("http", "addr") as string | undefined) ?? "127.0.0.1:5000");
	const headers: Record<string, string[]> = {};
	for (const [k, v] of Object.entries((get("http", "headers") as Tree | undefined) ?? {})) {
		headers[k] = (Array.isArray(v) ? v : [v]).map(String);
	}
	const fields: Record<string, string> = {};
	for (const [k, v] of Object.entries((get("log", "fields") as Tree | undefined) ?? {})) {
		fields[k] = String(v);
	}
	const fail = (message: string): never => {
		throw new ConfigError(message);
	};
	const tls = tlsSettings({ get, fail, duration });
	const auth = authSettings({ get, fail, duration });
	const redis = redisSettings({ get, fail, duration, parseAddr });
	const debug = debugSettings({ get, fail, duration }, parseAddr);
	return {
		log: {
			level: LEVELS[String(get("log", "level") ?? "info").toLowerCase()] ?? "info",
			fields,
			accessLog: get("log", "accesslog", "disabled") !== true,
		},
		http: {
			host: addr?.host ?? "127.0.0.1",
			port: addr?.port ?? 5000,
			baseUrl: ((get("http", "host") as string | undefined) ?? "").replace(/\/+$/, ""),
			headers,
			drainTimeout: duration(get("http", "draintimeout"), "30s"),
			...(tls ? { tls } : {}),
			...(debug ? { debug } : {}),
		},
		...(auth ? { auth } : {}),
		...(redis ? { redis } : {}),
		storage: {
			driver: { name, params },
			deleteEnabled: get("storage", "delete", "enabled") === true,
			redirect: get("storage", "redirect", "disable") !== true,
			readOnly: get("storage", "maintenance", "readonly", "enabled") === true,
			uploadPurging: {
				enabled: get("storage", "maintenance", "uploadpurging", "enabled") !== false,
				age: duration(get("storage", "maintenance", "uploadpurging", "age"), "168h"),
				interval: duration(get("storage", "maintenance", "uploadpurging", "interval"), "24h"),
				dryRun: get("storage", "maintenance", "uploadpurging", "dryrun") === true,
			},
			garbageCollect: collectorSettings({ get, fail, duration }),
		},
		catalog: { maxEntries: (get("catalog", "maxentries") as number | undefined) ?? 1000 },
		warnings,
	};
}

/** The filesystem driver's keys are known here; a typo in them must not go unnoticed. */
function checkFilesystemParams(params: Tree, warnings: string[]): void {
	for (const key of Object.keys(params)) {
		if (key === "maxthreads") {
			warnings.push("storage.filesystem.maxthreads is accepted and ignored");
			delete params[key];
		} else if (key !== "rootdirectory") {
			throw new ConfigError(`unknown configuration key storage.filesystem.${key}`);
		}
	}
	const root = params.rootdirectory ?? "./data";
	if (typeof root !== "string" || root === "") {
		throw new ConfigError(
			`storage.filesystem.rootdirectory: expected a directory, got ${show(root)}`,
		);
	}
	params.rootdirectory = resolve(root);
}

function isTree(value: unknown): value is Tree {
	return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isScalar(value: unknown): boolean {
	return ["string", "number", "boolean"].includes(typeof value);
}

function show(value: unknown): string {
	return JSON.stringify(value) ?? String(value);
}
