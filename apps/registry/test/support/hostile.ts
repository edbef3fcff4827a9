/**
 * Arbitraries of hostile HTTP requests for the property tests: malformed and traversing path
 * segments in every position, lying digests and ranges, Content-Length that disagrees with the
 * body, truncated bodies, request smuggling framing, and malformed manifests.
 */
import { createHash } from "node:crypto";
import fc from "fast-check";
import type { RawRequest } from "./raw-http.js";

const HEX = "0123456789abcdef";

/** Junk for a header value: printable mostly, control bytes now and then. */
const noise = (maxLength: number) =>
	fc.oneof(
		{ weight: 4, arbitrary: fc.string({ unit: "grapheme-ascii", maxLength }) },
		{ weight: 1, arbitrary: fc.string({ unit: "binary-ascii", maxLength }) },
	);

/** Present now and then: most requests carry only a few of the optional headers. */
const sometimes = <T>(arb: fc.Arbitrary<T>, weight = 3) =>
	fc.oneof({ weight, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });

const SPECIAL_SEGMENTS = [
	"..",
	".",
	"%2e%2e",
	"%2E%2e",
	"..%2F",
	"%2F",
	"%2f..%2f..",
	"%5c..%5c",
	"..\\..",
	"%00",
	"%0a",
	"%0d%0a",
	"%ff",
	"%",
	"%zz",
	"_uploads",
	"_layers",
	"_manifests",
	"blobs",
	"uploads",
	"manifests",
	"tags",
	"list",
	"referrers",
	"data",
	"data~partial",
	"startedat",
	"hashstates",
	"link",
	"a~tmp~b",
	"é",
	"\u202e",
	"😀",
	"Ⅻ",
	"a".repeat(256),
	"UPPER",
	"-a",
	"a--b",
	"a__b",
	"a..b",
	"",
	" ",
	"%20",
	"?",
	"#frag",
	";param",
];

export const segment: fc.Arbitrary<string> = fc.oneof(
	{ weight: 3, arbitrary: fc.constantFrom(...SPECIAL_SEGMENTS) },
	{ weight: 2, arbitrary: fc.stringMatching(/^[a-z0-9]([._-]?[a-z0-9]){0,6}$/) },
	{ weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 10 }) },
	{ weight: 1, arbitrary: fc.string({ unit: "binary-ascii", maxLength: 10 }) },
);

const validComponent = fc.stringMatching(/^[a-z0-9]+([._-][a-z0-9]+){0,2}$/);

/**
 * Repository-name positions: valid names often (so requests reach the handlers and storage),
 * hostile segments otherwise; never the seeded repository's name.
 */
export const name = fc
	.oneof(
		{ weight: 3, arbitrary: fc.array(validComponent, { minLength: 1, maxLength: 3 }) },
		{ weight: 2, arbitrary: fc.array(segment, { minLength: 1, maxLength: 4 }) },
	)
	.map((s) => s.join("/"))
	.filter((n) => !n.startsWith("seed"));

const hex = (length: number) =>
	fc.string({ unit: fc.constantFrom(...HEX), minLength: length, maxLength: length });

export function digest(known: string[]): fc.Arbitrary<string> {
	return fc.oneof(
		{ weight: 4, arbitrary: fc.constantFrom(...known) },
		hex(64).map((h) => `sha256:${h}`),
		hex(128).map((h) => `sha512:${h}`),
		fc.constantFrom(
			"sha256:",
			"sha256",
			"sha256:abc",
			`sha256:${"A".repeat(64)}`,
			`sha256:${"a".repeat(65)}`,
			`md5:${"a".repeat(32)}`,
			"sha256:../../../../etc/passwd",
			`sha256:${"a".repeat(64)}%2f..`,
			`sha256%3a${"a".repeat(64)}`,
			"sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564",
			"SHA256:0",
		),
		segment,
	);
}

const reference = (known: string[]) =>
	fc.oneof(fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,20}$/), digest(known), segment);

export function target(known: string[], uploads: string[], open: string): fc.Arbitrary<string> {
	const upload = fc.oneof(fc.constantFrom(...uploads), fc.uuid(), segment, fc.constant(""));
	const query = fc.option(
		fc.oneof(
			digest(known).map((d) => `digest=${d}`),
			// The digest of whatever body the request carries: commits that can succeed.
			fc.constant("digest=@body"),
			fc.tuple(digest(known), name).map(([d, n]) => `mount=${d}&from=${n}`),
			fc
				.tuple(fc.oneof(fc.nat().map(String), segment), segment)
				.map(([n, l]) => `n=${n}&last=${l}`),
			segment.map((t) => `tag=${t}`),
			segment.map((t) => `artifactType=${t}`),
			fc.string({ unit: "binary-ascii", maxLength: 20 }),
		),
		{ nil: undefined },
	);
	const path = fc.oneof(
		// A real upload (chunks, commits, status) and real uploads' starts.
		{ weight: 3, arbitrary: fc.constantFrom(...uploads.map((u) => `${open}/${u}`)) },
		{ weight: 2, arbitrary: fc.constant(`${open}/`) },
		fc.tuple(name, digest(known)).map(([n, d]) => `/v2/${n}/blobs/${d}`),
		fc.tuple(name, upload).map(([n, u]) => `/v2/${n}/blobs/uploads/${u}`),
		fc.tuple(name, reference(known)).map(([n, r]) => `/v2/${n}/manifests/${r}`),
		name.map((n) => `/v2/${n}/tags/list`),
		fc.tuple(name, digest(known)).map(([n, d]) => `/v2/${n}/referrers/${d}`),
		fc.constantFrom("/v2/_catalog", "/v2/", "/v2", "/healthz", "*", "/../../etc/passwd"),
		fc.array(segment, { maxLength: 6 }).map((s) => `/v2/${s.join("/")}`),
		fc.array(segment, { maxLength: 6 }).map((s) => `/${s.join("/")}`),
	);
	return fc.tuple(path, query).map(([p, q]) => (q === undefined ? p : `${p}?${q}`));
}

/**
 * A request target's bytes: characters outside printable ASCII either percent-encoded (how a
 * client sends them) or raw (what an attacker sends).
 */
export function targetBytes(target: string, raw: boolean): Buffer {
	if (raw) return Buffer.from(target, "utf8");
	let out = "";
	for (const ch of target) {
		out += /^[\x21-\x7e]$/.test(ch) ? ch : encodeURIComponent(ch);
	}
	return Buffer.from(out, "latin1");
}

const contentRange = fc.oneof(
	fc.tuple(fc.nat(2_000_000), fc.nat(2_000_000)).map(([a, b]) => `${a}-${b}`),
	fc.tuple(fc.nat(100), fc.nat(100), fc.nat(200)).map(([a, b, t]) => `bytes ${a}-${a + b}/${t}`),
	fc.constantFrom(
		"0-0",
		"bytes=0-9",
		"-1-5",
		"5-1",
		"a-b",
		"0-99999999999999999999",
		"99999999999999999-1",
		"1-2-3",
		"bytes */*",
		"",
		"0-9/*",
	),
	noise(20),
);

const range = fc.oneof(
	fc
		.tuple(fc.nat(5000), fc.option(fc.nat(5000), { nil: undefined }))
		.map(([a, b]) => `bytes=${a}-${b ?? ""}`),
	fc.constantFrom(
		"bytes=-5",
		"bytes=-0",
		"bytes=5-1",
		"bytes=0-1,3-4",
		"bytes=99999999999999999999-",
		"items=0-1",
		"bytes=",
		"bytes=-",
		"0-10",
	),
	noise(20),
);

const MANIFEST_TYPES = [
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.docker.distribution.manifest.v2+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
];

const contentType = fc.oneof(
	fc.constantFrom(
		...MANIFEST_TYPES,
		"application/octet-stream",
		"application/json",
		"text/plain",
		"multipart/form-data; boundary=x",
		"application/x-www-form-urlencoded",
		"",
		"application/vnd.oci.image.manifest.v1+json; charset=utf-8",
	),
	noise(30),
);

/** Manifest-shaped bodies: valid ones naming seeded blobs, and every way to get one wrong. */
export function manifestBody(known: { digest: string; size: number }[]): fc.Arbitrary<Buffer> {
	const descriptor = fc.oneof(
		fc.constantFrom(...known).map((k) => ({
			mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
			...k,
		})),
		fc.record({
			mediaType: fc.oneof(fc.string(), fc.constant(42)),
			digest: fc.oneof(fc.string(), fc.constant(null)),
			size: fc.oneof(fc.integer(), fc.double(), fc.string()),
		}),
	);
	const manifest = fc.record(
		{
			schemaVersion: fc.oneof(fc.constant(2), fc.integer(), fc.string()),
			mediaType: fc.oneof(fc.constantFrom(...MANIFEST_TYPES), fc.string()),
			config: descriptor,
			layers: fc.oneof(fc.array(descriptor, { maxLength: 4 }), fc.string()),
			manifests: fc.array(descriptor, { maxLength: 3 }),
			subject: descriptor,
			annotations: fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer())),
		},
		{ requiredKeys: [] },
	);
	return fc.oneof(
		manifest.map((m) => Buffer.from(JSON.stringify(m))),
		fc.nat(30_000).map((depth) => Buffer.from(`${"[".repeat(depth)}${"]".repeat(depth)}`)),
		fc.constantFrom(
			Buffer.from("{"),
			Buffer.from("null"),
			Buffer.from('{"schemaVersion":2,"layers":[{"__proto__":{"polluted":1}}]}'),
			Buffer.from([0xff, 0xfe, 0x7b, 0x7d]),
			Buffer.from('{"schemaVersion":2}\u0000'),
		),
	);
}

/** How a body is framed: honestly, with a Content-Length that lies, or chunked. */
const framing = fc.constantFrom(
	"exact",
	"exact",
	"exact",
	"exact",
	"chunked",
	"short",
	"long",
	"garbage",
	"chunked",
	"both",
	"none",
);

/**
 * One hostile request. `uploads` are ids of uploads open in the repository whose upload path is
 * `open` (`/v2/<name>/blobs/uploads`), so chunks and commits reach a real upload too.
 */
export function hostileRequest(
	known: { digest: string; size: number }[],
	uploads: string[],
	open: string,
): fc.Arbitrary<RawRequest & { label: string }> {
	const digests = known.map((k) => k.digest);
	return fc
		.record({
			method: fc.oneof(
				{ weight: 3, arbitrary: fc.constantFrom("GET", "PATCH", "PUT", "POST") },
				{ weight: 1, arbitrary: fc.constantFrom("HEAD", "DELETE", "OPTIONS", "TRACE") },
			),
			target: target(digests, uploads, open),
			raw: fc.integer({ min: 0, max: 5 }).map((n) => n === 0),
			contentRange: sometimes(contentRange, 2),
			range: sometimes(range),
			contentType: sometimes(contentType, 2),
			accept: sometimes(fc.constantFrom(...MANIFEST_TYPES, "*/*", "text/html", "")),
			ifNoneMatch: sometimes(fc.oneof(fc.constantFrom(...digests), fc.constant("*"))),
			body: fc.oneof(
				fc.constant(Buffer.alloc(0)),
				fc.uint8Array({ maxLength: 8192 }).map((b) => Buffer.from(b)),
				manifestBody(known),
			),
			framing,
			garbageLength: fc.constantFrom("abc", "-1", "1e3", " 5", "99999999999999999999", "0x10", ""),
		})
		.map((r) => {
			const headers: [string, string][] = [];
			if (r.contentRange !== undefined) headers.push(["Content-Range", r.contentRange]);
			if (r.range !== undefined) headers.push(["Range", r.range]);
			if (r.contentType !== undefined) headers.push(["Content-Type", r.contentType]);
			if (r.accept !== undefined) headers.push(["Accept", r.accept]);
			if (r.ifNoneMatch !== undefined) headers.push(["If-None-Match", `"${r.ifNoneMatch}"`]);
			let body = r.body;
			let end = false;
			switch (r.framing) {
				case "exact":
					headers.push(["Content-Length", String(body.length)]);
					break;
				case "short":
					// Declares more than it sends, then gives up.
					headers.push(["Content-Length", String(body.length + 1 + (body.length % 977))]);
					end = true;
					break;
				case "long":
					headers.push(["Content-Length", String(Math.floor(body.length / 2))]);
					break;
				case "garbage":
					headers.push(["Content-Length", r.garbageLength]);
					break;
				case "chunked":
					headers.push(["Transfer-Encoding", "chunked"]);
					body = chunked(body);
					break;
				case "both":
					headers.push(["Content-Length", String(body.length)], ["Transfer-Encoding", "chunked"]);
					break;
				case "none":
					body = Buffer.alloc(0);
					break;
			}
			const bodyDigest = `sha256:${createHash("sha256").update(r.body).digest("hex")}`;
			const target = r.target.replace("digest=@body", `digest=${bodyDigest}`);
			return {
				method: r.method,
				target: targetBytes(target, r.raw),
				headers,
				body,
				end,
				label: `${r.method} ${r.target} [${r.framing}, ${r.body.length} B]`,
			};
		});
}

function chunked(body: Buffer): Buffer {
	const parts: Buffer[] = [];
	for (let at = 0; at < body.length; at += 1000) {
		const piece = body.subarray(at, at + 1000);
		parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from("\r\n"));
	}
	parts.push(Buffer.from("0\r\n\r\n"));
	return Buffer.concat(parts);
}
