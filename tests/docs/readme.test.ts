/**
 * README.md is part of the product: its two commands must stay true, CI must run its test
 * command verbatim, and every relative link in the docs must resolve.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const readme = readFileSync(path.join(root, "README.md"), "utf8");

/** The first ```sh block after the given heading. */
function commandUnder(heading: string): string {
  const section = readme.split(`## ${heading}\n`)[1] ?? "";
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
  return block.trim();
}

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return markdownFiles(full);
    return entry.name.endsWith(".md") ? [full] : [];
  });
}

describe("README", () => {
  it("has exactly one command to run the service and one to run the tests", () => {
    expect(commandUnder("Run it")).toBe("npm ci && npm start");
    expect(commandUnder("Test it")).toBe("bash .ci/system-packages && npm ci && npm test");
  });

  it("is what CI runs: .ci/run contains the README test command verbatim", () => {
    const ci = readFileSync(path.join(root, ".ci/run"), "utf8");
    expect(ci).toMatch(/^set -euo pipefail$/m);
    expect(ci.split("\n")).toContain(commandUnder("Test it"));
  });

  it("names npm scripts that exist, and start builds first", () => {
    const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    for (const script of ["start", "test", "check", "generate", "docs:generate"]) {
      expect(pkg.scripts[script], script).toBeDefined();
    }
    expect(pkg.scripts.prestart).toBe("npm run build");
  });

  it("links only to files that exist (README and docs/)", () => {
    const files = [path.join(root, "README.md"), ...markdownFiles(path.join(root, "docs"))];
    const broken: string[] = [];
    for (const file of files) {
      const text = readFileSync(file, "utf8");
      for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = match[1] ?? "";
        if (/^[a-z]+:/i.test(target) || target.startsWith("#")) continue;
        const resolved = path.resolve(path.dirname(file), target.split("#")[0] ?? "");
        if (!existsSync(resolved)) broken.push(`${path.relative(root, file)} → ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
