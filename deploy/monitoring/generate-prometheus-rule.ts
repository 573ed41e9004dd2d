/**
 * Generates deploy/monitoring/prometheus-rule.yaml, a Kubernetes PrometheusRule (prometheus-operator)
 * whose spec.groups are exactly the groups of deploy/monitoring/alerts.yml, so the plain rules file
 * (promtool-tested) stays the single source of truth. Run after editing alerts.yml:
 *   npx tsx deploy/monitoring/generate-prometheus-rule.ts
 * tests/deploy/prometheus-rule.test.ts fails when the committed file is stale.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { format, resolveConfig } from "prettier";
import { Document, parse } from "yaml";

const here = fileURLToPath(new URL(".", import.meta.url));
export const ALERTS_PATH = `${here}alerts.yml`;
export const PROMETHEUS_RULE_PATH = `${here}prometheus-rule.yaml`;

const HEADER = [
  " GENERATED FILE - do not edit. Source: deploy/monitoring/alerts.yml; regenerate with",
  "   npx tsx deploy/monitoring/generate-prometheus-rule.ts",
  " Kubernetes PrometheusRule (prometheus-operator) carrying the MLSDM alert rules. The operator loads",
  " it when the Prometheus resource's ruleSelector matches its labels (kube-prometheus-stack's default",
  " selector wants `release: <helm release name>`: add that label with kustomize if needed).",
].join("\n");

/** The PrometheusRule manifest for the given alerts.yml text, formatted as committed. */
export async function renderPrometheusRule(
  alertsYaml: string = readFileSync(ALERTS_PATH, "utf8"),
): Promise<string> {
  const alerts = parse(alertsYaml) as { groups?: unknown };
  if (!Array.isArray(alerts.groups) || alerts.groups.length === 0) {
    throw new Error("alerts.yml has no groups");
  }
  const manifest = {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: {
      name: "mlsdm-alerts",
      labels: {
        "app.kubernetes.io/name": "mlsdm",
        "app.kubernetes.io/component": "alerting",
        "app.kubernetes.io/part-of": "mlsdm",
      },
    },
    spec: { groups: alerts.groups },
  };
  const doc = new Document(manifest);
  doc.commentBefore = HEADER;
  const text = doc.toString({ lineWidth: 0 });
  const options = (await resolveConfig(PROMETHEUS_RULE_PATH)) ?? {};
  return format(text, { ...options, parser: "yaml" });
}

/** Writes prometheus-rule.yaml; returns whether its content changed. */
export async function writePrometheusRule(): Promise<boolean> {
  const next = await renderPrometheusRule();
  let previous = "";
  try {
    previous = readFileSync(PROMETHEUS_RULE_PATH, "utf8");
  } catch {
    // first run
  }
  if (previous === next) return false;
  writeFileSync(PROMETHEUS_RULE_PATH, next);
  return true;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const changed = await writePrometheusRule();
  process.stdout.write(`${PROMETHEUS_RULE_PATH}: ${changed ? "written" : "up to date"}\n`);
}
