/** An S3 error response: the code and status AWS documents for the condition. */
export class S3Error extends Error {
	constructor(
		readonly code: string,
		readonly status: number,
		message: string,
		/** Extra elements AWS includes in the <Error> document (e.g. StringToSign). */
		readonly details: Record<string, string | number> = {},
	) {
		super(message);
		this.name = "S3Error";
	}
}

// The errors this server raises, with the statuses of AWS's error-code table.
export const errors = {
	accessDenied: (message = "Access Denied") => new S3Error("AccessDenied", 403, message),
	authorizationHeaderMalformed: (message: string) =>
		new S3Error("AuthorizationHeaderMalformed", 400, message),
	badDigest: (
		message = "The Content-MD5 or checksum you specified did not match what we received.",
	) => new S3Error("BadDigest", 400, message),
	bucketAlreadyOwnedByYou: (bucket: string) =>
		new S3Error(
			"BucketAlreadyOwnedByYou",
			409,
			"Your previous request to create the named bucket succeeded and you already own it.",
			{ BucketName: bucket },
		),
	bucketNotEmpty: (bucket: string) =>
		new S3Error("BucketNotEmpty", 409, "The bucket you tried to delete is not empty", {
			BucketName: bucket,
		}),
	entityTooLarge: (size: number, max: number) =>
		new S3Error("EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed size", {
			ProposedSize: size,
			MaxSizeAllowed: max,
		}),
	entityTooSmall: (size: number, min: number) =>
		new S3Error(
			"EntityTooSmall",
			400,
			"Your proposed upload is smaller than the minimum allowed size",
			{ ProposedSize: size, MinSizeAllowed: min },
		),
	incompleteBody: (
		message = "You did not provide the number of bytes specified by the Content-Length HTTP header",
	) => new S3Error("IncompleteBody", 400, message),
	internalError: (message = "We encountered an internal error. Please try again.") =>
		new S3Error("InternalError", 500, message),
	invalidAccessKeyId: (id: string) =>
		new S3Error(
			"InvalidAccessKeyId",
			403,
			"The AWS Access Key Id you provided does not exist in our records.",
			{ AWSAccessKeyId: id },
		),
	invalidArgument: (message: string, name?: string, value?: string) =>
		new S3Error(
			"InvalidArgument",
			400,
			message,
			name === undefined ? {} : { ArgumentName: name, ArgumentValue: value ?? "" },
		),
	invalidBucketName: (bucket: string) =>
		new S3Error("InvalidBucketName", 400, "The specified bucket is not valid.", {
			BucketName: bucket,
		}),
	invalidDigest: (message = "The Content-MD5 or checksum you specified is not valid.") =>
		new S3Error("InvalidDigest", 400, message),
	invalidPart: (
		message = "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag.",
	) => new S3Error("InvalidPart", 400, message),
	invalidPartOrder: () =>
		new S3Error(
			"InvalidPartOrder",
			400,
			"The list of parts was not in ascending order. The parts list must be specified in order by part number.",
		),
	invalidRange: (size: number) =>
		new S3Error("InvalidRange", 416, "The requested range is not satisfiable", {
			ActualObjectSize: size,
		}),
	invalidRequest: (message: string) => new S3Error("InvalidRequest", 400, message),
	keyTooLong: () => new S3Error("KeyTooLongError", 400, "Your key is too long"),
	malformedXML: (
		message = "The XML you provided was not well-formed or did not validate against our published schema",
	) => new S3Error("MalformedXML", 400, message),
	methodNotAllowed: (method: string) =>
		new S3Error(
			"MethodNotAllowed",
			405,
			"The specified method is not allowed against this resource.",
			{
				Method: method,
			},
		),
	missingContentLength: () =>
		new S3Error("MissingContentLength", 411, "You must provide the Content-Length HTTP header."),
	noSuchBucket: (bucket: string) =>
		new S3Error("NoSuchBucket", 404, "The specified bucket does not exist", { BucketName: bucket }),
	noSuchKey: (key: string) =>
		new S3Error("NoSuchKey", 404, "The specified key does not exist.", { Key: key }),
	noSuchUpload: (uploadId: string) =>
		new S3Error(
			"NoSuchUpload",
			404,
			"The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
			{ UploadId: uploadId },
		),
	notImplemented: (
		message = "A header or parameter you provided implies functionality that is not implemented",
	) => new S3Error("NotImplemented", 501, message),
	preconditionFailed: (condition: string) =>
		new S3Error(
			"PreconditionFailed",
			412,
			"At least one of the pre-conditions you specified did not hold",
			{
				Condition: condition,
			},
		),
	requestTimeTooSkewed: () =>
		new S3Error(
			"RequestTimeTooSkewed",
			403,
			"The difference between the request time and the current time is too large.",
		),
	signatureDoesNotMatch: (details: Record<string, string>) =>
		new S3Error(
			"SignatureDoesNotMatch",
			403,
			"The request signature we calculated does not match the signature you provided. Check your key and signing method.",
			details,
		),
	slowDown: () => new S3Error("SlowDown", 503, "Please reduce your request rate."),
	contentSha256Mismatch: (client: string, computed: string) =>
		new S3Error(
			"XAmzContentSHA256Mismatch",
			400,
			"The provided 'x-amz-content-sha256' header does not match what was computed.",
			{ ClientComputedContentSHA256: client, S3ComputedContentSHA256: computed },
		),
};
