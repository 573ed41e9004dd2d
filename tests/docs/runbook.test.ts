/**
 * docs/runbook.md (BASE-DOC-b, DOC-005): every alert in every Prometheus rule file under deploy/
 * has a runbook_url that lands on a section of the runbook; the troubleshooting decision tree is a
 * mermaid flowchart with at least 10 leaves, each linked (click) to a section that exists and listed
 * as a markdown link too; it covers the DOC-005 issues; the routine operations are there.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { anchorsOf, root } from "./support/markdown.js";

const runbookPath = path.join(root, "docs/runbook.md");
const runbook = readFileSync(runbookPath, "utf8");
const anchors = anchorsOf(runbookPath);

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return yamlFiles(full);
    return /\.ya?ml$/.test(entry.name) && !/\.test\.ya?ml$/.test(entry.name) ? [full] : [];
  });
}

interface AlertRule {
  alert: string;
  annotations?: { runbook_url?: string };
}

function alertsIn(node: unknown): AlertRule[] {
  if (Array.isArray(node)) return node.flatMap(alertsIn);
  if (node === null || typeof node !== "object") return [];
  if (typeof (node as { alert?: unknown }).alert === "string") return [node as AlertRule];
  return Object.values(node).flatMap(alertsIn);
}

const alerts = yamlFiles(path.join(root, "deploy")).flatMap((file) =>
  parseAllDocuments(readFileSync(file, "utf8")).flatMap((doc) =>
    alertsIn(doc.toJS()).map((rule) => ({ file: path.relative(root, file), rule })),
  ),
);

const tree = /## Troubleshooting decision tree\n[\s\S]*?```mermaid\n([\s\S]*?)```/.exec(runbook)?.[1] ?? "";

describe("docs/runbook.md", () => {
  it("has a section for every alert's runbook_url, in every rule file under deploy/", () => {
    expect(alerts.length).toBeGreaterThanOrEqual(20);
    const missing = alerts.filter(({ rule }) => {
      const match = /^docs\/runbook\.md#(.+)$/.exec(rule.annotations?.runbook_url ?? "");
      return !match || !anchors.has(match[1] ?? "");
    });
    expect(
      missing.map(({ file, rule }) => `${file}: ${rule.alert} → ${rule.annotations?.runbook_url}`),
    ).toEqual([]);
    // Canary gate alerts have their own sections (not only the k8s README).
    for (const name of ["MLSDMCanaryServerFaults", "MLSDMCanaryHighLatency"]) {
      expect(
        alerts.some(({ rule }) => rule.alert === name),
        name,
      ).toBe(true);
      expect(runbook).toContain(`\n## ${name}\n`);
    }
  });

  it("has a mermaid decision tree whose every leaf links to a section", () => {
    expect(tree).toMatch(/^flowchart TD\n/);
    const edges = [...tree.matchAll(/^\s*(\w+)(?:[[({][^\n]*?[\])}])?\s+--(?:\s+"[^"]*"\s+--)?>\s+(\w+)/gm)];
    const sources = new Set(edges.map((m) => m[1]));
    const leaves = [...new Set(edges.map((m) => m[2] ?? ""))].filter((id) => !sources.has(id));
    expect(leaves.length).toBeGreaterThanOrEqual(10);
    const clicks = new Map([...tree.matchAll(/^\s*click (\w+) "#([^"]+)"/gm)].map((m) => [m[1], m[2] ?? ""]));
    const unlinked = leaves.filter((id) => !anchors.has(clicks.get(id) ?? ""));
    expect(unlinked).toEqual([]);
    // GitHub does not follow clicks in diagrams: every leaf is also a plain link below the tree.
    const after = runbook.split("```mermaid")[1]?.split("\n## ")[0] ?? "";
    for (const id of leaves) expect(after, id).toContain(`](#${clicks.get(id)})`);
  });

  it("covers the DOC-005 issues", () => {
    for (const needle of [
      "E701",
      "E702",
      "E602",
      "DEADLINE_EXCEEDED",
      "E703",
      "UNAUTHENTICATED",
      "Readiness",
      "OOMKilled",
      "CORS",
      "HTTP/2 load imbalance",
      "Redis",
      "accepted = false",
    ]) {
      expect(tree, needle).toContain(needle);
    }
    for (const code of ["E202", "E204", "E201"]) expect(runbook).toContain(`| ${code} `);
  });

  it("describes the routine operations of BASE-DOC-b", () => {
    for (const heading of [
      "Deploy and roll back",
      "Emergency shutdown and reset",
      "Key rotation",
      "Scaling",
      "Backup and restore of state",
    ]) {
      expect(runbook).toContain(`\n### ${heading}\n`);
    }
    expect(runbook).toContain("AdminService/ResetEmergency");
  });
});
