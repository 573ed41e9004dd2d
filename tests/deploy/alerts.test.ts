/**
 * Alert rules: promtool validates them and runs their unit tests (firing and quiet cases);
 * every runbook link resolves to a section of docs/runbook.md; every metric a rule queries is
 * documented (and therefore exported: tests/integration/metrics.test.ts checks the doc).
 * promtool comes from Debian's `prometheus` package, installed by .ci/run.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const rules = readFileSync(`${root}/deploy/monitoring/alerts.yml`, "utf8");

function promtool(...args: string[]): string {
  return execFileSync("promtool", args, { cwd: `${root}/deploy/monitoring`, encoding: "utf8" });
}

function anchor(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, "")
    .replace(/ /g, "-");
}

describe("alert rules", () => {
  it("pass promtool check rules", () => {
    expect(promtool("check", "rules", "alerts.yml")).toContain("SUCCESS");
  });

  it("pass their promtool unit tests", () => {
    const out = promtool("test", "rules", "alerts.test.yml", "alerts-budget.test.yml");
    expect(out.match(/SUCCESS/g)).toHaveLength(2);
  });

  it("link to runbook sections that exist", () => {
    const runbook = readFileSync(`${root}/docs/runbook.md`, "utf8");
    const anchors = new Set([...runbook.matchAll(/^## (.+)$/gm)].map((m) => anchor(m[1] ?? "")));
    const links = [...rules.matchAll(/runbook_url: "docs\/runbook\.md#([^"]+)"/g)].map((m) => m[1] ?? "");
    expect(links.length).toBe([...rules.matchAll(/- alert: /g)].length);
    expect(links.filter((link) => !anchors.has(link))).toEqual([]);
  });

  it("query only documented MLSDM metrics", () => {
    const doc = readFileSync(`${root}/docs/observability.md`, "utf8");
    const used = new Set(
      [...rules.matchAll(/\b(mlsdm_[a-z0-9_]+)/g)].map((m) => (m[1] ?? "").replace(/_bucket$/, "")),
    );
    expect([...used].filter((name) => !doc.includes(name))).toEqual([]);
  });
});
