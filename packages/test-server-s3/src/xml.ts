/**
 * The little XML this server needs: writing response documents, and reading the two request
 * bodies S3 accepts (DeleteObjects, CompleteMultipartUpload). Strict: anything malformed throws.
 */

export function escapeXml(text: string): string {
	return text.replace(/[&<>"']/g, (c) => `&${ENTITY_NAMES[c]};`);
}

const ENTITY_NAMES: Record<string, string> = {
	"&": "amp",
	"<": "lt",
	">": "gt",
	'"': "quot",
	"'": "apos",
};

/** A value in a document to write: text, a nested element, a list of repeated elements, or absent. */
export type XmlValue = string | number | boolean | Date | XmlFields | XmlFields[] | undefined;
export interface XmlFields {
	[name: string]: XmlValue | XmlValue[];
}

/** Serialise `{Root: {...}}`-style fields; arrays repeat their element name. */
export function toXml(root: string, fields: XmlFields): string {
	return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${body(fields)}</${root}>`;
}

function body(fields: XmlFields): string {
	let out = "";
	for (const [name, value] of Object.entries(fields)) {
		const values = Array.isArray(value) ? value : [value];
		for (const v of values) {
			if (v === undefined) continue;
			out += `<${name}>${scalarOrNested(v as Exclude<XmlValue, XmlFields[] | undefined>)}</${name}>`;
		}
	}
	return out;
}

function scalarOrNested(value: Exclude<XmlValue, XmlFields[] | undefined>): string {
	if (value instanceof Date) return value.toISOString();
	if (typeof value === "object") return body(value);
	return escapeXml(String(value));
}

export interface XmlElement {
	name: string;
	children: XmlElement[];
	text: string;
}

export class XmlSyntaxError extends Error {}

/** Parse a document into elements (namespaces dropped from names, attributes ignored). */
export function parseXml(source: string): XmlElement {
	let pos = 0;
	const fail = (what: string): never => {
		throw new XmlSyntaxError(`${what} at offset ${pos}`);
	};
	const skipSpace = () => {
		while (pos < source.length && /\s/.test(source[pos] as string)) pos++;
	};
	const skipMisc = () => {
		for (;;) {
			skipSpace();
			if (source.startsWith("<?", pos)) {
				const end = source.indexOf("?>", pos);
				if (end < 0) fail("unterminated declaration");
				pos = end + 2;
			} else if (source.startsWith("<!--", pos)) {
				const end = source.indexOf("-->", pos);
				if (end < 0) fail("unterminated comment");
				pos = end + 3;
			} else return;
		}
	};
	const readName = (): string => {
		const m = /^[A-Za-z_][\w.:-]*/.exec(source.slice(pos, pos + 256));
		if (!m) return fail("expected a name");
		pos += m[0].length;
		return m[0];
	};
	const element = (): XmlElement => {
		if (source[pos] !== "<") fail("expected an element");
		pos++;
		const qname = readName();
		// Attributes are skipped (only xmlns appears in S3 request bodies).
		for (;;) {
			skipSpace();
			if (source.startsWith("/>", pos)) {
				pos += 2;
				return { name: localName(qname), children: [], text: "" };
			}
			if (source[pos] === ">") {
				pos++;
				break;
			}
			readName();
			skipSpace();
			if (source[pos] !== "=") fail("expected '='");
			pos++;
			skipSpace();
			const quote = source[pos];
			if (quote !== '"' && quote !== "'") return fail("expected a quoted attribute value");
			const end = source.indexOf(quote, pos + 1);
			if (end < 0) fail("unterminated attribute value");
			pos = end + 1;
		}
		const node: XmlElement = { name: localName(qname), children: [], text: "" };
		for (;;) {
			if (pos >= source.length) fail(`unterminated element <${qname}>`);
			if (source.startsWith("</", pos)) {
				pos += 2;
				const closing = readName();
				if (closing !== qname) fail(`mismatched </${closing}> for <${qname}>`);
				skipSpace();
				if (source[pos] !== ">") fail("expected '>'");
				pos++;
				return node;
			}
			if (source.startsWith("<!--", pos)) {
				const end = source.indexOf("-->", pos);
				if (end < 0) fail("unterminated comment");
				pos = end + 3;
			} else if (source.startsWith("<![CDATA[", pos)) {
				const end = source.indexOf("]]>", pos);
				if (end < 0) fail("unterminated CDATA");
				node.text += source.slice(pos + 9, end);
				pos = end + 3;
			} else if (source[pos] === "<") {
				node.children.push(element());
			} else {
				const end = source.indexOf("<", pos);
				if (end < 0) fail("unterminated text");
				node.text += decodeEntities(source.slice(pos, end));
				pos = end;
			}
		}
	};
	skipMisc();
	const root = element();
	skipMisc();
	if (pos !== source.length) fail("content after the root element");
	return root;
}

function localName(qname: string): string {
	const i = qname.indexOf(":");
	return i < 0 ? qname : qname.slice(i + 1);
}

function decodeEntities(text: string): string {
	return text.replace(
		/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);|&/g,
		(_all, entity: string | undefined) => {
			if (entity === undefined) throw new XmlSyntaxError("bare '&' in text");
			if (entity.startsWith("#x"))
				return String.fromCodePoint(Number.parseInt(entity.slice(2), 16));
			if (entity.startsWith("#")) return String.fromCodePoint(Number.parseInt(entity.slice(1), 10));
			const named = NAMED[entity];
			if (named === undefined) throw new XmlSyntaxError(`unknown entity &${entity};`);
			return named;
		},
	);
}

const NAMED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

export function child(node: XmlElement, name: string): XmlElement | undefined {
	return node.children.find((c) => c.name === name);
}

export function childrenNamed(node: XmlElement, name: string): XmlElement[] {
	return node.children.filter((c) => c.name === name);
}
