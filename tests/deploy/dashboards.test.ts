/**
 * Grafana dashboards (production.md OBS-003): each is valid JSON with a Prometheus `datasource`
 * variable that every panel, query and annotation uses (no hard-coded datasource uid); every
 * expression is valid PromQL (promtool check rules on the expressions as recording rules); every
 * metric any expression uses is documented in docs/observability.md AND exported by a real server
 * after a short workload (scrape of GET /metrics, families compared without _bucket/_sum/_count);
 * the OBS-003 panels are present with the alert thresholds.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import type { RunningApp } from "../../src/app.js";
import { EngineService } from "../../src/gen/mlsdm/v1/engine_pb.js";
import { connectClient } from "../integration/support/clients.js";
import { startTestServer } from "../integration/support/server.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const DASHBOARD_FILES = ["mlsdm-overview.json", "mlsdm-slo.json"];
const DATASOURCE = { type: "prometheus", uid: "${datasource}" };

interface Target {
  refId?: string;
  expr?: string;
  datasource?: unknown;
}
interface Panel {
  id?: number;
  type?: string;
  title?: string;
  datasource?: unknown;
  targets?: Target[];
  panels?: Panel[];
  gridPos?: { h: number; w: number; x: number; y: number };
  fieldConfig?: { defaults?: { thresholds?: { steps?: { value: number | null }[] } } };
}
interface Variable {
  name: string;
  type: string;
  query?: unknown;
  definition?: string;
  datasource?: unknown;
}
interface Dashboard {
  uid?: string;
  title?: string;
  schemaVersion?: number;
  panels?: Panel[];
  templating?: { list?: Variable[] };
  annotations?: { list?: { expr?: string; datasource?: unknown }[] };
}

const dashboards = new Map<string, { text: string; json: Dashboard }>(
  DASHBOARD_FILES.map((file) => {
    const text = readFileSync(`${root}/deploy/monitoring/grafana/${file}`, "utf8");
    return [file, { text, json: JSON.parse(text) as Dashboard }];
  }),
);

function dashboard(file: string): Dashboard {
  const entry = dashboards.get(file);
  if (entry === undefined) throw new Error(`no dashboard ${file}`);
  return entry.json;
}

/** All panels, rows' nested panels included. */
function panelsOf(d: Dashboard): Panel[] {
  return (d.panels ?? []).flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** Every PromQL expression of a dashboard: panel targets, variable queries, annotations. */
function expressionsOf(d: Dashboard): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  for (const panel of panelsOf(d)) {
    for (const target of panel.targets ?? []) {
      out.push({ where: `panel "${panel.title ?? ""}" ${target.refId ?? ""}`, expr: target.expr ?? "" });
    }
  }
  for (const variable of d.templating?.list ?? []) {
    if (variable.type !== "query") continue;
    const query =
      typeof variable.query === "string" ? variable.query : (variable.query as { query: string }).query;
    // label_values(<selector>, <label>): only the selector is PromQL.
    const match = /^label_values\((.*),\s*[a-zA-Z_]\w*\)$/.exec(query.trim());
    out.push({ where: `variable ${variable.name}`, expr: match?.[1] ?? query });
  }
  for (const annotation of d.annotations?.list ?? []) {
    if (annotation.expr !== undefined) out.push({ where: "annotation", expr: annotation.expr });
  }
  return out;
}

const KEYWORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "bool",
  "and",
  "or",
  "unless",
  "offset",
  "inf",
  "nan",
]);

/** Metric names a PromQL expression selects (strings, matchers, ranges, label lists and calls removed). */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  const names: string[] = [];
  for (const match of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const name = match[0];
    const before = stripped[match.index - 1] ?? " ";
    const after = stripped.slice(match.index + name.length).trimStart();
    if (/[0-9.]/.test(before) || after.startsWith("(") || KEYWORDS.has(name.toLowerCase())) continue;
    names.push(name);
  }
  return names;
}

const family = (name: string): string => name.replace(/_(bucket|sum|count)$/, "");

/** The expression with Grafana's variables replaced by values PromQL accepts. */
function concrete(expr: string): string {
  return expr
    .replaceAll("$__rate_interval", "5m")
    .replaceAll("$__interval", "1m")
    .replaceAll("$__range", "1d")
    .replaceAll("$job", "mlsdm")
    .replaceAll("$instance", ".*");
}

describe("Grafana dashboards", () => {
  it("are valid JSON dashboards with a recent schema, unique ids and a 24-column layout", () => {
    for (const [file, { json }] of dashboards) {
      expect(json.schemaVersion, file).toBeGreaterThanOrEqual(38);
      expect(json.uid, file).toMatch(/^mlsdm-[a-z-]+$/);
      expect(json.title, file).toMatch(/MLSDM/);
      const panels = panelsOf(json);
      expect(panels.length, file).toBeGreaterThan(5);
      const ids = panels.map((p) => p.id);
      expect(new Set(ids).size, file).toBe(ids.length);
      for (const panel of panels) {
        expect(panel.gridPos, `${file} ${panel.title ?? ""}`).toBeDefined();
        const { x, w } = panel.gridPos ?? { x: 0, w: 0 };
        expect(x + w, `${file} ${panel.title ?? ""}`).toBeLessThanOrEqual(24);
      }
    }
    expect(new Set([...dashboards.values()].map((d) => d.json.uid)).size).toBe(dashboards.size);
  });

  it("have a Prometheus datasource variable that every panel, query and annotation uses", () => {
    for (const [file, { json }] of dashboards) {
      const variable = json.templating?.list?.find((v) => v.name === "datasource");
      expect(variable, file).toMatchObject({ type: "datasource", query: "prometheus" });
      for (const panel of panelsOf(json)) {
        if (panel.type === "row") continue;
        expect(panel.datasource, `${file} ${panel.title ?? ""}`).toEqual(DATASOURCE);
        expect(panel.targets?.length, `${file} ${panel.title ?? ""}`).toBeGreaterThan(0);
        for (const target of panel.targets ?? []) {
          expect(target.datasource, `${file} ${panel.title ?? ""}`).toEqual(DATASOURCE);
          expect(target.expr?.trim(), `${file} ${panel.title ?? ""}`).not.toBe("");
        }
      }
      for (const v of json.templating?.list ?? []) {
        if (v.type === "query") expect(v.datasource, `${file} variable ${v.name}`).toEqual(DATASOURCE);
      }
      for (const annotation of json.annotations?.list ?? []) {
        expect(annotation.datasource, `${file} annotation`).toEqual(DATASOURCE);
      }
    }
  });

  it("hard-code no datasource uid anywhere (only the dashboard's own uid is fixed)", () => {
    for (const [file, { json }] of dashboards) {
      const uids: string[] = [];
      const walk = (node: unknown, top: boolean): void => {
        if (Array.isArray(node)) {
          for (const child of node) walk(child, false);
        } else if (node !== null && typeof node === "object") {
          for (const [key, value] of Object.entries(node)) {
            if (key === "uid" && !top) uids.push(String(value));
            if (key === "datasource" && typeof value === "string") uids.push(value);
            walk(value, false);
          }
        }
      };
      walk(json, true);
      expect(uids.length, file).toBeGreaterThan(0);
      expect(
        uids.filter((uid) => uid !== "${datasource}"),
        file,
      ).toEqual([]);
    }
  });

  it("write valid PromQL (promtool check rules on every expression)", () => {
    const dir = mkdtempSync(join(tmpdir(), "mlsdm-dashboards-"));
    try {
      const rules = [...dashboards].flatMap(([file, { json }]) =>
        expressionsOf(json).map(({ expr }, i) => ({
          record: `dashboard:${file.replace(/\W/g, "_")}:expr_${i}`,
          expr: concrete(expr),
        })),
      );
      for (const rule of rules) expect(rule.expr).not.toMatch(/\$/);
      writeFileSync(join(dir, "rules.yml"), stringify({ groups: [{ name: "dashboards", rules }] }));
      const out = execFileSync("promtool", ["check", "rules", "rules.yml"], { cwd: dir, encoding: "utf8" });
      expect(out).toContain("SUCCESS");
      expect(out).toContain(`${rules.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("query only metrics listed in docs/observability.md (plus up)", () => {
    const doc = readFileSync(`${root}/docs/observability.md`, "utf8");
    const documented = (name: string): boolean =>
      name === "up" ||
      name.startsWith("mlsdm_process_") ||
      name.startsWith("mlsdm_nodejs_") ||
      doc.includes(`\`${family(name).replace(/_l[23]$/, "")}\``);
    for (const [file, { json }] of dashboards) {
      const names = expressionsOf(json).flatMap(({ expr }) => metricNames(expr));
      expect(names.length, file).toBeGreaterThan(10);
      expect(
        names.filter((name) => !documented(name)),
        file,
      ).toEqual([]);
    }
  });

  it("cover the OBS-003 panels, with the alert thresholds", () => {
    const uses = (file: string): Set<string> =>
      new Set(expressionsOf(dashboard(file)).flatMap(({ expr }) => metricNames(expr).map(family)));
    const overview = uses("mlsdm-overview.json");
    for (const name of [
      "mlsdm_rpc_requests_total",
      "mlsdm_rpc_duration_seconds",
      "mlsdm_rpc_in_flight",
      "mlsdm_process_resident_memory_bytes",
      "mlsdm_nodejs_heap_size_used_bytes",
      "mlsdm_nodejs_heap_size_total_bytes",
      "mlsdm_nodejs_eventloop_lag_p99_seconds",
      "mlsdm_nodejs_gc_duration_seconds",
      "mlsdm_moral_threshold",
      "mlsdm_rhythm_phase",
      "mlsdm_memory_items",
      "mlsdm_memory_capacity",
      "mlsdm_generation_decisions_total",
      "mlsdm_generation_stage_duration_seconds",
      "mlsdm_llm_failures_total",
      "mlsdm_llm_request_duration_seconds",
      "mlsdm_generation_tokens_total",
      "mlsdm_circuit_state",
    ]) {
      expect(overview.has(name), `overview uses ${name}`).toBe(true);
    }
    const overviewPanels = panelsOf(dashboard("mlsdm-overview.json"));
    expect(overviewPanels.some((p) => p.type === "heatmap")).toBe(true);
    const exprs = expressionsOf(dashboard("mlsdm-overview.json")).map((e) => e.expr);
    for (const q of ["0.5", "0.95", "0.99"]) {
      expect(
        exprs.some((e) => e.startsWith(`histogram_quantile(${q}, sum by (le) (rate(mlsdm_rpc_duration`)),
      ).toBe(true);
    }
    expect(exprs.some((e) => e.includes("sum by (method, code) (rate(mlsdm_rpc_requests_total"))).toBe(true);

    const slo = uses("mlsdm-slo.json");
    for (const name of [
      "mlsdm_rpc_requests_total",
      "mlsdm_rpc_duration_seconds",
      "mlsdm_events_accepted_total",
      "mlsdm_events_evaluated_total",
      "mlsdm_memory_limit_bytes",
      "mlsdm_emergency_shutdown_active",
      "mlsdm_emergency_shutdowns_total",
      "mlsdm_auto_recovery_total",
      "mlsdm_llm_failures_total",
    ]) {
      expect(slo.has(name), `SLO dashboard uses ${name}`).toBe(true);
    }
    const sloPanels = panelsOf(dashboard("mlsdm-slo.json"));
    const panel = (title: RegExp): Panel => {
      const found = sloPanels.find((p) => title.test(p.title ?? ""));
      if (found === undefined) throw new Error(`no panel ${String(title)}`);
      return found;
    };
    const steps = (p: Panel): (number | null)[] =>
      (p.fieldConfig?.defaults?.thresholds?.steps ?? []).map((s) => s.value);
    const exprOf = (p: Panel): string => p.targets?.[0]?.expr ?? "";
    const availability = panel(/^Availability \(28 d\)/);
    expect(exprOf(availability)).toContain("[28d]");
    expect(steps(availability)).toContain(0.999);
    const burn = panel(/^Burn rate \(1 h\)/);
    expect(exprOf(burn)).toContain("[1h]");
    expect(exprOf(burn)).toContain("/ 0.001");
    expect(steps(burn)).toEqual([null, 2, 5]);
    expect(steps(panel(/^Burn rate over time/))).toEqual([null, 2, 5]);
    expect(steps(panel(/^P95 latency \(5 m\)/))).toContain(0.12);
    expect(steps(panel(/^Correctness/))).toContain(0.9);
    expect(exprOf(panel(/^Error budget remaining/))).toContain("[30d]");
    expect(exprOf(panel(/^Emergency shutdowns \(24 h\)/))).toContain("mlsdm_emergency_shutdowns_total");
    expect(exprOf(panel(/^Emergency shutdowns \(24 h\)/))).toContain("[24h]");
  });

  describe("against a running server", () => {
    let app: RunningApp;
    let families: Set<string>;
    const vector = (seed: number): number[] => Array.from({ length: 384 }, (_, i) => Math.sin(seed + i));

    beforeAll(async () => {
      app = await startTestServer({ MLSDM_RHYTHM_WAKE_DURATION: "10000" });
      const engine = connectClient(EngineService, app.httpPort, "connect");
      await engine.generate({ prompt: "Explain the tides." });
      await engine.generate({ prompt: "Explain the tides.", moralValue: 0.05 });
      for (let i = 0; i < 3; i++) await engine.processEvent({ vector: vector(i), moralValue: 0.95 });
      await engine.getState({});
      await engine.getState({});
      await expect(engine.processEvent({ vector: [1, 2], moralValue: 0.95 })).rejects.toThrow();
      const response = await fetch(`http://127.0.0.1:${app.httpPort}/metrics`);
      expect(response.status).toBe(200);
      families = new Set<string>();
      for (const line of (await response.text()).split("\n")) {
        const type = /^# TYPE (\S+) /.exec(line);
        if (type?.[1] !== undefined) families.add(type[1]);
        else if (line !== "" && !line.startsWith("#")) families.add(family(line.split(/[{ ]/)[0] ?? ""));
      }
    });
    afterAll(async () => {
      await app.shutdown("test done");
    });

    it("the workload produced the RPC, engine and Generate series", () => {
      for (const name of [
        "mlsdm_rpc_requests_total",
        "mlsdm_rpc_duration_seconds",
        "mlsdm_generation_decisions_total",
        "mlsdm_process_resident_memory_bytes",
      ]) {
        expect(families.has(name), name).toBe(true);
      }
    });

    it("exports every metric any dashboard expression uses", () => {
      for (const [file, { json }] of dashboards) {
        const used = new Set(
          expressionsOf(json)
            .flatMap(({ expr }) => metricNames(expr))
            .filter((name) => name !== "up")
            .map(family),
        );
        expect(
          [...used].filter((name) => !families.has(name)),
          file,
        ).toEqual([]);
      }
    });
  });
});
