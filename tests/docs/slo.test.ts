/**
 * docs/slo.md (PERF-003, BASE-PERF-a): every PromQL query is valid (promtool check rules, each query
 * as a recording rule) and uses only metrics documented in docs/observability.md; the alerts it names
 * exist in deploy/monitoring/alerts.yml with the same budget (0.1 %) and burn thresholds; the budget
 * policy states the PERF-003 bands and exhaustion rules; the SLI recording rules of PERF-003 exist,
 * are documented, and pass their promtool unit test (deploy/monitoring/slo-recording.test.yml).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";

const root = fileURLToPath(new URL("../..", import.meta.url));
const slo = readFileSync(`${root}/docs/slo.md`, "utf8");
const queries = [...slo.matchAll(/```promql\n([\s\S]*?)```/g)].map((m) => (m[1] ?? "").trim());

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
}
const alertRules = (
  parse(readFileSync(`${root}/deploy/monitoring/alerts.yml`, "utf8")) as { groups: { rules: Rule[] }[] }
).groups.flatMap((g) => g.rules);

describe("docs/slo.md", () => {
  it("has queries for every SLI and the budget", () => {
    expect(queries.length).toBeGreaterThanOrEqual(10);
    for (const needle of ["[28d]", "[30d]", "[1h]", "[5m]", "/ 0.001", "histogram_quantile(0.95"]) {
      expect(
        queries.some((q) => q.includes(needle)),
        needle,
      ).toBe(true);
    }
  });

  it("writes valid PromQL (promtool check rules on every query)", () => {
    const dir = mkdtempSync(join(tmpdir(), "mlsdm-slo-"));
    try {
      const rules = queries.map((expr, i) => ({ record: `slo_doc:query_${i}`, expr }));
      writeFileSync(join(dir, "rules.yml"), stringify({ groups: [{ name: "slo-doc", rules }] }));
      const out = execFileSync("promtool", ["check", "rules", "rules.yml"], { cwd: dir, encoding: "utf8" });
      expect(out).toContain(`${rules.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("documents the SLI recording rules, which exist and pass their promtool unit test", () => {
    const recorded = alertRules.flatMap((r) => (r.record === undefined ? [] : [r.record]));
    for (const window of ["5m", "1h", "6h", "1d", "28d", "30d"]) {
      expect(recorded).toContain(`mlsdm:rpc_server_fault_ratio:rate${window}`);
    }
    for (const series of recorded.filter((r) => r.startsWith("mlsdm:"))) {
      const short = series.replace(/^(mlsdm:[a-z_]+:)/, "…:");
      expect(slo.includes(`\`${series}\``) || slo.includes(`\`${short}\``), series).toBe(true);
    }
    const out = execFileSync("promtool", ["test", "rules", "slo-recording.test.yml"], {
      cwd: `${root}/deploy/monitoring`,
      encoding: "utf8",
    });
    expect(out).toContain("SUCCESS");
  });

  it("queries only metrics listed in docs/observability.md", () => {
    const doc = readFileSync(`${root}/docs/observability.md`, "utf8");
    const used = new Set(
      queries.flatMap((q) =>
        [...q.matchAll(/\b(mlsdm_[a-z0-9_]+)/g)].map((m) => (m[1] ?? "").replace(/_(bucket|sum|count)$/, "")),
      ),
    );
    expect(used.size).toBeGreaterThan(5);
    expect([...used].filter((name) => !doc.includes(`\`${name}\``))).toEqual([]);
  });

  it("names alerts that exist, with the budget and burn thresholds of the rules", () => {
    const names = new Set(alertRules.map((r) => r.alert));
    const named = [...slo.matchAll(/^\| \[([A-Za-z]+)\]\(runbook\.md#/gm)].map((m) => m[1] ?? "");
    expect(named.length).toBeGreaterThanOrEqual(5);
    expect(named.filter((n) => !names.has(n))).toEqual([]);
    const expr = (name: string): string => alertRules.find((r) => r.alert === name)?.expr ?? "";
    expect(expr("MLSDMErrorBudgetBurnFast")).toMatch(/\/ 0\.001 > 5\s*$/);
    expect(expr("MLSDMErrorBudgetBurn")).toMatch(/\/ 0\.001 > 2\s*$/);
    expect(expr("MLSDMErrorBudgetExhausted")).toMatch(/\[30d\][\s\S]*\/ 0\.001 > 0\.8\s*$/);
    expect(expr("MLSDMHighLatency")).toMatch(/> 0\.12$/);
    // The fault code set of the doc is the one the rules use.
    const codes = /code=~"([A-Z_|]+)"/.exec(expr("MLSDMHighErrorRate"))?.[1];
    expect(codes).toBeDefined();
    expect(queries.filter((q) => q.includes("code=~")).every((q) => q.includes(`code=~"${codes}"`))).toBe(
      true,
    );
  });

  it("states the error-budget policy of PERF-003", () => {
    for (const needle of [
      "99.9 %",
      "0.1 %",
      "28 days",
      "30 days",
      "| < 1 ",
      "| 1–2 ",
      "| 2–5 ",
      "| > 5 ",
      "| 50 % ",
      "| 80 % ",
      "| 100 % ",
      "within 7 days",
      "7 consecutive days",
      "Reviewed every quarter",
    ]) {
      expect(slo, needle).toContain(needle);
    }
  });
});
