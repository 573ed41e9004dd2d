/**
 * Command blocks in the docs run (issue 9 item 4): every ```sh block preceded by a
 * `<!-- docs-test ... -->` comment in README.md or docs/ is run with bash against a real server
 * started in-process on ephemeral loopback ports, with the documented ports (50051, 8080 on
 * 127.0.0.1, localhost or <pod>) replaced by the real ones. It must exit 0 and print every
 * expected marker.
 *
 * Marker syntax: `<!-- docs-test -->`, `<!-- docs-test expect="text" expect='"json":1' -->`, and `auth`
 * to run against a server that requires the admin API key in $MLSDM_ADMIN_KEY (otherwise the server
 * serves anonymous loopback calls, as `npm start` does).
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApp } from "../../src/app.js";
import { startTestServer } from "../integration/support/server.js";
import { markdownFiles, root } from "./support/markdown.js";

const ADMIN_KEY = "docs-test-admin-key-0123456789abcdef0123456789abcdef";

interface Block {
  readonly file: string;
  readonly line: number;
  readonly script: string;
  readonly expects: readonly string[];
  readonly auth: boolean;
}

function blocksOf(file: string): Block[] {
  const text = readFileSync(file, "utf8");
  const blocks: Block[] = [];
  for (const match of text.matchAll(/^<!-- docs-test\b(.*?)-->\n+```sh\n([\s\S]*?)^```/gm)) {
    const options = match[1] ?? "";
    blocks.push({
      file: path.relative(root, file),
      line: text.slice(0, match.index).split("\n").length,
      script: match[2] ?? "",
      expects: [...options.matchAll(/expect=(?:"([^"]*)"|'([^']*)')/g)].map((m) => m[1] ?? m[2] ?? ""),
      auth: /\bauth\b/.test(options),
    });
  }
  return blocks;
}

const blocks = [path.join(root, "README.md"), ...markdownFiles(path.join(root, "docs"))].flatMap(blocksOf);

let open: RunningApp;
let secured: RunningApp;

beforeAll(async () => {
  [open, secured] = await Promise.all([
    startTestServer({ MLSDM_RATE_LIMIT_RPS: "0" }),
    startTestServer({ MLSDM_RATE_LIMIT_RPS: "0", MLSDM_ADMIN_API_KEY: ADMIN_KEY }),
  ]);
});

afterAll(async () => {
  await Promise.all([open.shutdown("docs test done"), secured.shutdown("docs test done")]);
});

function withPorts(script: string, app: RunningApp): string {
  return script
    .replace(/(127\.0\.0\.1|localhost|<pod>):50051\b/g, `127.0.0.1:${app.grpcPort}`)
    .replace(/(127\.0\.0\.1|localhost|<pod>):8080\b/g, `127.0.0.1:${app.httpPort}`);
}

describe("command blocks in the docs", () => {
  it("are marked in README and the docs (at least five)", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    expect(blocks.some((b) => b.file === "README.md")).toBe(true);
    expect(blocks.some((b) => b.auth)).toBe(true);
  });

  it.each(blocks.map((b) => [`${b.file}:${b.line}`, b] as const))("%s runs", async (_where, block) => {
    const app = block.auth ? secured : open;
    const script = withPorts(block.script, app);
    const { stdout } = await promisify(execFile)("bash", ["-euo", "pipefail", "-c", script], {
      cwd: root,
      timeout: 25_000,
      env: {
        ...process.env,
        MLSDM_ADMIN_KEY: ADMIN_KEY,
        PATH: `${path.join(root, "node_modules/.bin")}:${process.env.PATH ?? ""}`,
      },
    });
    for (const marker of block.expects) expect(stdout, marker).toContain(marker);
  });
});
