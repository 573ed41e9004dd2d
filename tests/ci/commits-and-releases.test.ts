/**
 * CICD-008: commitlint (@commitlint/cli 19 with config-conventional and our type list) accepts
 * conventional messages and rejects others, run on strings exactly as the commitlint job runs it;
 * the release-please config and manifest are valid and name this package.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

// The npm script the commitlint job runs, called without npm's start-up cost.
const SCRIPT = (JSON.parse(readFileSync("package.json", "utf8")) as { scripts: Record<string, string> })
  .scripts.commitlint;
function commitlint(message: string) {
  return spawnSync("node_modules/.bin/commitlint", ["--config", ".ci/commitlint.config.js"], {
    input: `${message}\n`,
    encoding: "utf8",
  });
}

describe("conventional commits", () => {
  it("the npm script is commitlint with this config", () => {
    expect(SCRIPT).toBe("commitlint --config .ci/commitlint.config.js");
  });

  it("accepts each changelog type, with and without a scope, and breaking changes", () => {
    for (const message of [
      "feat(ci): smoke workflow on every push",
      "fix: refuse non-finite scores",
      "perf(core)!: PELM scan over a Float32Array",
      "revert: feat(ci): smoke workflow",
      "chore: bump vitest\n\nBREAKING CHANGE: Node 18 is no longer supported",
    ]) {
      const r = commitlint(message);
      expect(r.status, `${message}\n${r.stdout}${r.stderr}`).toBe(0);
    }
  });

  it("rejects a message without a type, with an unknown type or an empty subject", () => {
    for (const [message, rule] of [
      ["update stuff", "type-empty"],
      ["style: reformat", "type-enum"],
      ["feat: ", "subject-empty"],
      ["Feat: capitalised type", "type-case"],
    ] as const) {
      const r = commitlint(message);
      expect(r.status, message).not.toBe(0);
      expect(r.stdout + r.stderr, message).toContain(rule);
    }
  });
});

describe("release-please", () => {
  const config = JSON.parse(readFileSync(".github/release-please/config.json", "utf8")) as {
    "release-type": string;
    packages: Record<string, { "package-name": string; "changelog-path": string }>;
    "changelog-sections": { type: string }[];
  };
  const manifest = JSON.parse(readFileSync(".github/release-please/manifest.json", "utf8")) as Record<
    string,
    string
  >;
  const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { name: string; version: string };

  it("releases this npm package from the root with a CHANGELOG.md", () => {
    expect(config["release-type"]).toBe("node");
    expect(config.packages["."]).toEqual({ "package-name": pkg.name, "changelog-path": "CHANGELOG.md" });
  });

  it("the manifest holds the package's current version", () => {
    expect(manifest).toEqual({ ".": pkg.version });
  });

  it("the changelog sections are exactly the commit types commitlint allows", async () => {
    const configUrl = new URL("../../.ci/commitlint.config.js", import.meta.url).href;
    const { default: rules } = (await import(configUrl)) as {
      default: { rules: { "type-enum": [number, string, string[]] } };
    };
    expect(config["changelog-sections"].map((s) => s.type).sort()).toEqual(
      [...rules.rules["type-enum"][2]].sort(),
    );
  });

  it("the workflow points release-please at these files", () => {
    const wf = readFileSync(".github/workflows/release-please.yml", "utf8");
    expect(wf).toContain("config-file: .github/release-please/config.json");
    expect(wf).toContain("manifest-file: .github/release-please/manifest.json");
  });
});
