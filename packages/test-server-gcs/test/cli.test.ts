import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { sdk } from "./helpers.js";

const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

it("the CLI serves on the printed URL until SIGTERM", async () => {
	expect(existsSync(CLI), `${CLI} is missing: run the package's build first`).toBe(true);
	const child = spawn(process.execPath, [CLI, "--port", "0", "--bucket", "cli-bucket"], {
		stdio: ["ignore", "pipe", "inherit"],
	});
	try {
		const url = await new Promise<string>((resolve, reject) => {
			const lines = createInterface({ input: child.stdout });
			lines.once("line", resolve);
			child.once("exit", (code) => reject(new Error(`the CLI exited with ${code}`)));
		});
		expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
		const file = sdk(url).bucket("cli-bucket").file("hello.txt");
		await file.save("hello", { resumable: false });
		expect((await file.download())[0].toString()).toBe("hello");
	} finally {
		const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
		child.kill("SIGTERM");
		expect(await exited).toBe(0);
	}
});
