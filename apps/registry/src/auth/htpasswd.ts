import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import bcrypt from "bcryptjs";
import type { Logger } from "pino";
import { ConfigError } from "../config.js";
import {
	type AccessController,
	type AuthRequest,
	type AuthResult,
	grantAll,
	quote,
} from "./controller.js";
import type { RequiredAccess } from "./scopes.js";

/**
 * HTTP Basic against an htpasswd file of bcrypt entries (`htpasswd -B`). The file is re-read
 * when it changes, so users are added and removed without a restart. Like Distribution, any
 * authenticated user may do anything.
 */

export interface HtpasswdSettings {
	realm: string;
	/** Absolute path of the htpasswd file. */
	path: string;
}

const BCRYPT = /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/;

/** Parse htpasswd text: `user:hash` lines; bcrypt entries only, the rest reported. */
export function parseHtpasswd(text: string): { users: Map<string, string>; skipped: string[] } {
	const users = new Map<string, string>();
	const skipped: string[] = [];
	for (const raw of text.split(/\r?\n/)) {
		const line = raw.trim();
		if (line === "" || line.startsWith("#")) continue;
		const colon = line.indexOf(":");
		const user = colon > 0 ? line.slice(0, colon) : "";
		const hash = line.slice(colon + 1);
		if (user === "" || !BCRYPT.test(hash)) {
			skipped.push(user === "" ? "(a line without a user name)" : user);
			continue;
		}
		users.set(user, hash);
	}
	return { users, skipped };
}

/** `Authorization: Basic base64(user:password)`, or undefined when it is not one. */
export function parseBasic(
	header: string | undefined,
): { user: string; password: string } | undefined {
	const m = /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? "");
	if (!m) return undefined;
	const decoded = Buffer.from(m[1] as string, "base64").toString("utf8");
	const colon = decoded.indexOf(":");
	if (colon < 0) return undefined;
	return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * An unknown user is checked against another user's hash, so it costs the same as a known one
 * (same bcrypt cost); with no users at all, against this hash of a forgotten random password.
 */
const DECOY = "$2y$10$JwPVBuZ9VFsux9GMFbNNiuZL0KVSvJz63mUFxBMyMSJ5Z7MIhmoC.";
/** Successful checks are remembered this long (bcrypt at cost 10 takes ~50 ms in JS). */
const CACHE_TTL = 5 * 60_000;
const CACHE_MAX = 1000;

export class HtpasswdController implements AccessController {
	readonly kind = "htpasswd";
	readonly #settings: HtpasswdSettings;
	readonly #logger: Logger | undefined;
	#users = new Map<string, string>();
	#version = "";
	#loading: Promise<void> | undefined;
	/**
	 * HMAC(process key, user, password) → the hash it matched and until when. Keyed with a
	 * per-process secret so the cache holds nothing that could be attacked offline; an entry is
	 * only good while the user's hash in the file is unchanged.
	 */
	readonly #verified = new Map<string, { hash: string; until: number }>();
	readonly #cacheKey = randomBytes(32);

	constructor(settings: HtpasswdSettings, logger?: Logger) {
		this.#settings = settings;
		this.#logger = logger;
	}

	/** Read the file now: a missing or unreadable file stops start-up. */
	async load(): Promise<void> {
		try {
			await this.#read(versionOf(await stat(this.#settings.path)));
		} catch (err) {
			const { path } = this.#settings;
			throw new ConfigError(`auth.htpasswd.path: cannot read ${path}: ${(err as Error).message}`);
		}
	}

	/** Any valid user gets every access: `_required` does not matter here. */
	async authorize(request: AuthRequest, _required?: RequiredAccess): Promise<AuthResult> {
		const challenge = `Basic realm=${quote(this.#settings.realm)}`;
		if (request.authorization === undefined || !/^basic\s/i.test(request.authorization)) {
			return { ok: false, reason: "missing", message: "authentication required", challenge };
		}
		const credentials = parseBasic(request.authorization);
		if (credentials && (await this.verify(credentials.user, credentials.password))) {
			return { ok: true, grant: grantAll(credentials.user) };
		}
		return { ok: false, reason: "invalid", message: "invalid username or password", challenge };
	}

	/** Check a password in constant time; an unknown user costs as much as a known one. */
	async verify(user: string, password: string): Promise<boolean> {
		await this.#refresh();
		const known = this.#users.get(user);
		const hash = known ?? this.#users.values().next().value ?? DECOY;
		const key = createHmac("sha256", this.#cacheKey)
			.update(JSON.stringify([user, password]))
			.digest("base64");
		const cached = this.#verified.get(key);
		if (known !== undefined && cached && cached.hash === known && cached.until > Date.now()) {
			return true;
		}
		const computed = Buffer.from(await bcrypt.hash(password, hash));
		const expected = Buffer.from(hash);
		const match = computed.length === expected.length && timingSafeEqual(computed, expected);
		if (!match || known === undefined) return false;
		this.#verified.delete(key);
		this.#verified.set(key, { hash: known, until: Date.now() + CACHE_TTL });
		if (this.#verified.size > CACHE_MAX) {
			const oldest = this.#verified.keys().next().value;
			if (oldest !== undefined) this.#verified.delete(oldest);
		}
		return true;
	}

	/** Re-read the file when its size, mtime or inode changed; fail closed when it is gone. */
	async #refresh(): Promise<void> {
		try {
			while (this.#loading) await this.#loading;
			const version = versionOf(await stat(this.#settings.path));
			if (version === this.#version) return;
			this.#loading = this.#read(version).finally(() => {
				this.#loading = undefined;
			});
			await this.#loading;
		} catch (err) {
			if (this.#version !== "gone") {
				this.#logger?.error(
					{ path: this.#settings.path, error: (err as Error).message },
					"htpasswd file unreadable: every login fails until it is back",
				);
			}
			this.#users = new Map();
			this.#version = "gone";
		}
	}

	async #read(version: string): Promise<void> {
		const text = await readFile(this.#settings.path, "utf8");
		const { users, skipped } = parseHtpasswd(text);
		if (skipped.length > 0) {
			this.#logger?.warn(
				{ path: this.#settings.path, users: skipped },
				"htpasswd entries that are not bcrypt (htpasswd -B) are ignored",
			);
		}
		const reloaded = this.#version !== "";
		this.#users = users;
		this.#version = version;
		if (reloaded) {
			this.#logger?.info({ path: this.#settings.path, users: users.size }, "htpasswd reloaded");
		}
	}
}

function versionOf(info: { mtimeMs: number; ctimeMs: number; size: number; ino: number }): string {
	return `${info.ino}:${info.size}:${info.mtimeMs}:${info.ctimeMs}`;
}
