import { ListMultipartUploadsCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import type { StorageDriver } from "@stowage/core";
import {
	type DriverSuiteOptions,
	driverSuite,
	type EngineTestFunction,
	type TestFunction,
	uploadEngineSuite,
} from "@stowage/driver-conformance";
import { describe, expect, inject, it } from "vitest";
import { createS3Driver } from "../src/index.js";
import { driverOptions, type S3Target, targetClient } from "./targets.js";

export interface ConformanceOptions {
	suite: DriverSuiteOptions;
	largeChunkSize?: number;
	/** Cases the target cannot run, by name pattern, each with the reason (reported as skipped). */
	lacks?: [RegExp, string][];
	/** The target lists multipart uploads: check none is left after each case. */
	listsUploads: boolean;
	/**
	 * Why the target's delimiter listing misses deep directories, if it does: then `list("/")`
	 * cannot find what a case left, so the case's top-level directories are found by a flat
	 * listing and deleted through the driver before the leftover check.
	 */
	shallowDelimiter?: string;
}

/**
 * Both suites against one target, a fresh `rootdirectory` per case in a shared bucket. After
 * each case the bucket must hold nothing under that root (no content, no upload state) and, where
 * the target can tell, no multipart upload may be left in progress.
 */
export function conformance(name: S3Target["name"], options: ConformanceOptions): void {
	const target = inject("s3Targets").find((t) => t.name === name);
	if (!target) {
		const note =
			name === "endpoint"
				? "STOWAGE_S3_ENDPOINT is not set (the local servers are tested instead)"
				: inject("s3TargetNote");
		if (!note) throw new Error(`globalSetup provided no "${name}" target`);
		describe.skip(`${name}: ${note}`, () => {
			it("not run", () => {});
		});
		return;
	}
	const client = targetClient(target);
	const run = `conformance-${name}-${Date.now().toString(36)}`;
	const roots = new WeakMap<StorageDriver, string>();
	let n = 0;
	let current = "";
	const open = (root: string) => {
		const driver = createS3Driver({ ...driverOptions(target, root), client, maxattempts: 3 });
		roots.set(driver, root);
		return driver;
	};
	const factory = () => {
		current = `${run}/${++n}`;
		return open(current);
	};

	const test: TestFunction = (caseName, fn, timeout) => {
		const reason = options.lacks?.find(([re]) => re.test(caseName))?.[1];
		if (reason) {
			it.skip(`${caseName} [not run on ${name}: ${reason}]`, () => {});
			return;
		}
		it(
			caseName,
			async (ctx) => {
				await fn(ctx);
				if (options.shallowDelimiter) await deleteTopLevel(current);
				await expectNothingLeft(current);
			},
			timeout,
		);
	};

	async function deleteTopLevel(root: string): Promise<void> {
		const top = new Set<string>();
		let token: string | undefined;
		do {
			const page = await client.send(
				new ListObjectsV2Command({
					Bucket: target?.bucket,
					Prefix: `${root}/`,
					ContinuationToken: token,
				}),
			);
			for (const c of page.Contents ?? [])
				top.add((c.Key as string).slice(root.length + 1).split("/")[0] as string);
			token = page.NextContinuationToken;
		} while (token);
		const driver = open(root);
		for (const name of top) {
			if (!name.startsWith("~")) await driver.delete(`/${name}`);
		}
	}

	async function expectNothingLeft(root: string): Promise<void> {
		const left = await client.send(
			new ListObjectsV2Command({ Bucket: target?.bucket, Prefix: `${root}/` }),
		);
		expect(left.Contents?.map((c) => c.Key) ?? [], "objects left under the case's root").toEqual(
			[],
		);
		if (options.listsUploads) {
			const uploads = await client.send(
				new ListMultipartUploadsCommand({ Bucket: target?.bucket, Prefix: `${root}/` }),
			);
			expect(
				uploads.Uploads?.map((u) => u.Key) ?? [],
				"multipart uploads left in progress",
			).toEqual([]);
		}
	}

	driverSuite(test, factory, options.suite);
	uploadEngineSuite(test as EngineTestFunction, factory, {
		reopen: (driver) => open(roots.get(driver) as string),
		...(options.largeChunkSize ? { largeChunkSize: options.largeChunkSize } : {}),
		timeout: 120_000,
	});
}
