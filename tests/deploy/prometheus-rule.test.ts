/**
 * Kubernetes PrometheusRule and Alertmanager routing (production.md OBS-002).
 * prometheus-rule.yaml is what deploy/monitoring/generate-prometheus-rule.ts produces from
 * alerts.yml now (byte for byte, header included) and its spec.groups equal alerts.yml's groups;
 * promtool checks the groups extracted from it and runs alerts.test.yml against them.
 * alertmanager.yml: `amtool check-config` (amtool from Debian prometheus-alertmanager, installed by .ci/system-packages;
 * ), and a structural check of routing, receivers and inhibition.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { renderPrometheusRule } from "../../deploy/monitoring/generate-prometheus-rule.js";

const monitoring = fileURLToPath(new URL("../../deploy/monitoring/", import.meta.url));
const read = (file: string): string => readFileSync(join(monitoring, file), "utf8");

interface Rule {
  alert?: string;
  labels?: Record<string, string>;
}
interface RuleGroup {
  name: string;
  rules: Rule[];
}
interface PrometheusRule {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: { groups: RuleGroup[] };
}

const committed = read("prometheus-rule.yaml");
const manifest = parse(committed) as PrometheusRule;
const alertGroups = (parse(read("alerts.yml")) as { groups: RuleGroup[] }).groups;

/** Runs promtool in a temporary directory holding the given files. */
function promtoolWith(files: Record<string, string>, ...args: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), "mlsdm-prometheus-rule-"));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return execFileSync("promtool", args, { cwd: dir, encoding: "utf8" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("PrometheusRule", () => {
  it("is exactly what the generator produces from alerts.yml now", async () => {
    expect(committed).toBe(await renderPrometheusRule());
    expect(committed.split("\n")[0]).toMatch(/^# GENERATED FILE - do not edit/);
  });

  it("is a monitoring.coreos.com/v1 PrometheusRule whose groups are alerts.yml's", () => {
    expect(manifest.apiVersion).toBe("monitoring.coreos.com/v1");
    expect(manifest.kind).toBe("PrometheusRule");
    expect(manifest.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(manifest.metadata.labels?.["app.kubernetes.io/name"]).toBe("mlsdm");
    expect(Object.keys(manifest.spec)).toEqual(["groups"]);
    expect(manifest.spec.groups).toEqual(alertGroups);
  });

  it("passes promtool check rules and alerts.test.yml on the groups extracted from it", () => {
    const rules = stringify({ groups: manifest.spec.groups });
    const count = manifest.spec.groups.reduce((n, g) => n + g.rules.length, 0);
    expect(promtoolWith({ "rules.yml": rules }, "check", "rules", "rules.yml")).toContain(
      `SUCCESS: ${count} rules found`,
    );
    for (const file of ["alerts.test.yml", "alerts-budget.test.yml"]) {
      const unitTests = parse(read(file)) as { rule_files: string[] };
      unitTests.rule_files = ["rules.yml"];
      expect(
        promtoolWith({ "rules.yml": rules, "tests.yml": stringify(unitTests) }, "test", "rules", "tests.yml"),
      ).toContain("SUCCESS");
    }
  });
});

interface Route {
  receiver?: string;
  group_by?: string[];
  matchers?: string[];
  routes?: Route[];
}
interface Receiver {
  name: string;
  pagerduty_configs?: unknown[];
  slack_configs?: unknown[];
  webhook_configs?: { url: string }[];
}
interface AlertmanagerConfig {
  route: Route;
  receivers: Receiver[];
  inhibit_rules?: { source_matchers?: string[]; target_matchers?: string[]; equal?: string[] }[];
}

describe("Alertmanager routing example", () => {
  const text = read("alertmanager.yml");
  const config = parse(text) as AlertmanagerConfig;
  // amtool comes from Debian's prometheus-alertmanager, installed by .ci/system-packages.
  it("passes amtool check-config", () => {
    // The example reads secrets from files that do not exist here; only the syntax is checked.
    const out = execFileSync("amtool", ["check-config", join(monitoring, "alertmanager.yml")], {
      encoding: "utf8",
    });
    expect(out).toContain("SUCCESS");
  });

  it("routes critical to the pager, warning to chat, info to a ticket, grouped by alertname and severity", () => {
    expect(config.route.receiver).toBeDefined();
    expect(config.route.group_by).toEqual(expect.arrayContaining(["alertname", "severity"]));
    const receiverFor = (severity: string): Receiver | undefined => {
      const route = config.route.routes?.find((r) => r.matchers?.includes(`severity="${severity}"`));
      return config.receivers.find((r) => r.name === (route?.receiver ?? config.route.receiver));
    };
    expect(receiverFor("critical")?.name).toBe("pager");
    expect(receiverFor("critical")?.pagerduty_configs?.length).toBeGreaterThan(0);
    expect(receiverFor("warning")?.name).toBe("chat");
    expect(receiverFor("warning")?.slack_configs?.length).toBeGreaterThan(0);
    expect(receiverFor("info")?.name).toBe("ticket");
    // Every severity the rules use reaches a dedicated receiver.
    const severities = new Set(alertGroups.flatMap((g) => g.rules.map((r) => r.labels?.severity ?? "")));
    for (const severity of severities) expect(receiverFor(severity), severity).toBeDefined();
  });

  it("defines every receiver a route names, each once, and no inline secrets", () => {
    const names = config.receivers.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    const walk = (route: Route): string[] => [
      ...(route.receiver === undefined ? [] : [route.receiver]),
      ...(route.routes ?? []).flatMap(walk),
    ];
    for (const name of walk(config.route)) expect(names).toContain(name);
    expect(text).not.toMatch(/\b(routing_key|service_key|api_url):/);
    expect(text).toMatch(/routing_key_file:/);
    expect(text).toMatch(/api_url_file:/);
    for (const matcher of (config.route.routes ?? []).flatMap((r) => r.matchers ?? [])) {
      expect(matcher).toMatch(/^[a-z_]+(=|!=|=~|!~)"[^"]*"$/);
    }
  });

  it("inhibits a warning while a critical alert with the same alertname fires", () => {
    expect(config.inhibit_rules).toContainEqual({
      source_matchers: ['severity="critical"'],
      target_matchers: ['severity="warning"'],
      equal: ["alertname"],
    });
  });
});
