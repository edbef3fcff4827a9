import { hasIntegrityHeader } from "../checksums.js";
import { bucketOf, type Reply, type RequestContext, xml } from "../context.js";
import { errors } from "../errors.js";
import type { XmlFields } from "../xml.js";
import { child, childrenNamed, parseXml, type XmlElement, XmlSyntaxError } from "../xml.js";

const MAX_KEYS = 1000;

/** DeleteObjects: up to 1,000 keys, an integrity header required, missing keys count as deleted. */
export function deleteObjects(ctx: RequestContext): Reply {
	const bucket = bucketOf(ctx);
	if (!hasIntegrityHeader(ctx.headers)) {
		throw errors.invalidRequest("Missing required header for this request: Content-MD5");
	}
	let root: XmlElement;
	try {
		root = parseXml(ctx.body.toString("utf8"));
	} catch (err) {
		if (err instanceof XmlSyntaxError) throw errors.malformedXML();
		throw err;
	}
	if (root.name !== "Delete") throw errors.malformedXML();
	const quiet = child(root, "Quiet")?.text.trim() === "true";
	const objects = childrenNamed(root, "Object");
	if (objects.length === 0 || objects.length > MAX_KEYS) throw errors.malformedXML();
	const deleted: XmlFields[] = [];
	const failed: XmlFields[] = [];
	for (const object of objects) {
		const keyElement = child(object, "Key");
		if (!keyElement) throw errors.malformedXML();
		const key = keyElement.text;
		if (child(object, "VersionId")) {
			failed.push({ Key: key, Code: "NotImplemented", Message: "Versions are not implemented" });
			continue;
		}
		if (Buffer.byteLength(key) > 1024 || key === "") {
			failed.push({ Key: key, Code: "InvalidArgument", Message: "Invalid key" });
			continue;
		}
		bucket.delete(key);
		if (!quiet) deleted.push({ Key: key });
	}
	return xml("DeleteResult", { Deleted: deleted, Error: failed });
}
