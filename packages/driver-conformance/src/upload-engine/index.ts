import { faultTests } from "./faults-tests.js";
import { lifecycleTests } from "./lifecycle-tests.js";
import { purgeTests } from "./purge-tests.js";
import { resumeTests } from "./resume-tests.js";
import { sharingTests } from "./sharing-tests.js";
import type {
	EngineDriverFactory,
	EngineTestFunction,
	UploadEngineSuiteOptions,
} from "./support.js";

export {
	type FaultEffect,
	type FaultInjector,
	type FaultOperation,
	type FaultRule,
	faultyDriver,
	type InjectedFault,
	InjectedFaultError,
} from "./fault-driver.js";
export { verificationTests } from "./verification-tests.js";
export type { EngineDriverFactory, EngineTestFunction, UploadEngineSuiteOptions };
export { faultTests, lifecycleTests, purgeTests, resumeTests, sharingTests };

import { verificationTests } from "./verification-tests.js";

/**
 * The whole upload lifecycle on a driver: every driver runs this besides the primitive suite,
 * so a backend proves resumable, verified, atomic uploads end to end.
 */
export function uploadEngineSuite(
	test: EngineTestFunction,
	factory: EngineDriverFactory,
	options: UploadEngineSuiteOptions = {},
): void {
	lifecycleTests(test, factory, options);
	resumeTests(test, factory, options);
	verificationTests(test, factory, options);
	sharingTests(test, factory, options);
	purgeTests(test, factory, options);
	faultTests(test, factory, options);
}
