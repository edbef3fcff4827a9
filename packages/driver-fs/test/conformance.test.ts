import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { driverSuite, uploadEngineSuite } from "@stowage/driver-conformance";
import { afterAll, it } from "vitest";
import { createFsDriver } from "../src/index.js";

// One root for the whole file: every case uses random paths and must leave list("/") empty,
// and a fresh driver per case over the same root exercises state that lives only on disk.
const root = mkdtempSync(join(tmpdir(), "stowage-fs-conformance-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const open = () => createFsDriver({ rootDirectory: root });

driverSuite(it, open, { fillableReader: true });

// `reopen` gives the engine a second driver instance over the same root: another process's view.
uploadEngineSuite(it, open, { reopen: open });
