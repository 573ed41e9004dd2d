// Renders kustomize directories with `kubectl kustomize` and validates the objects: built-in kinds
// against the Kubernetes OpenAPI schemas (kubernetes-models), the CRD kinds MLSDM uses by hand
// (their required fields), since no schema package for them is installed.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";

export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
export const k8sRoot = path.join(repoRoot, "deploy/k8s");

/** A rendered object; fields are read loosely and asserted by the tests. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** Runs `kubectl kustomize <dir>`; a failure carries kubectl's stderr. */
export function kustomize(dir: string): K8sObject[] {
  let out: string;
  try {
    out = execFileSync("kubectl", ["kustomize", dir], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (error) {
    const { stderr, message } = error as { stderr?: string; message: string };
    throw new Error(`kubectl kustomize ${dir} failed:\n${stderr ?? message}`);
  }
  return parseAllDocuments(out)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${dir}: ${doc.errors.map(String).join("; ")}`);
      return doc.toJS() as K8sObject | null;
    })
    .filter((obj): obj is K8sObject => obj !== null);
}

/**
 * Renders a throw-away kustomization (in the system temp directory) that combines `resources` and
 * `components` given relative to deploy/k8s; kustomize accepts only relative paths to them.
 */
export function kustomizeComposed(resources: string[], components: string[]): K8sObject[] {
  const dir = mkdtempSync(path.join(tmpdir(), "mlsdm-kustomize-"));
  try {
    const rel = (p: string): string => path.relative(dir, path.join(k8sRoot, p));
    const text = [
      "apiVersion: kustomize.config.k8s.io/v1beta1",
      "kind: Kustomization",
      "resources:",
      ...resources.map((r) => `  - ${rel(r)}`),
      "components:",
      ...components.map((c) => `  - ${rel(c)}`),
      "",
    ].join("\n");
    writeFileSync(path.join(dir, "kustomization.yaml"), text);
    return kustomize(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type Model = new (data: never) => { validate(): void };

/** Built-in kinds the manifests may use, with their OpenAPI-schema model. */
export const BUILT_IN: Record<string, Model> = {
  "v1/Namespace": Namespace,
  "v1/ServiceAccount": ServiceAccount,
  "v1/ConfigMap": ConfigMap,
  "v1/Secret": Secret,
  "v1/Service": Service,
  "apps/v1/Deployment": Deployment,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
};

/** Validates a built-in object against its schema; throws with the object's name on failure. */
export function validateBuiltIn(obj: K8sObject): void {
  const Model = BUILT_IN[`${obj.apiVersion}/${obj.kind}`];
  if (Model === undefined) throw new Error(`no schema for ${obj.apiVersion} ${obj.kind}`);
  try {
    new Model(obj as never).validate();
  } catch (error) {
    throw new Error(`${obj.kind}/${obj.metadata.name}: ${(error as Error).message}`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function need(problems: string[], ok: boolean, what: string): void {
  if (!ok) problems.push(what);
}

function nonEmptyString(value: unknown): boolean {
  return typeof value === "string" && value.length > 0;
}

function checkBackendRefs(problems: string[], rules: unknown): void {
  need(problems, Array.isArray(rules) && rules.length > 0, "spec.rules is a non-empty list");
  for (const rule of Array.isArray(rules) ? rules : []) {
    const refs = isRecord(rule) ? rule.backendRefs : undefined;
    need(problems, Array.isArray(refs) && refs.length > 0, "each rule has backendRefs");
    for (const ref of Array.isArray(refs) ? refs : []) {
      need(problems, isRecord(ref) && nonEmptyString(ref.name), "backendRef.name");
      need(problems, isRecord(ref) && Number.isInteger(ref.port), "backendRef.port is an integer");
      const weight = isRecord(ref) ? ref.weight : undefined;
      need(
        problems,
        weight === undefined || (Number.isInteger(weight) && (weight as number) >= 0),
        "backendRef.weight is a non-negative integer",
      );
    }
  }
}

/**
 * Required fields of the CRDs used here (from their published CRD schemas): returns the problems,
 * empty when the object is well-formed. Undefined for a kind that is not one of them.
 */
export function crdProblems(obj: K8sObject): string[] | undefined {
  const spec = obj.spec;
  const problems: string[] = [];
  need(problems, nonEmptyString(obj.metadata.name), "metadata.name");
  need(problems, isRecord(spec), "spec is a mapping");
  const s = isRecord(spec) ? spec : {};
  switch (`${obj.apiVersion}/${obj.kind}`) {
    case "monitoring.coreos.com/v1/ServiceMonitor": {
      need(problems, isRecord(s.selector), "spec.selector");
      const endpoints = s.endpoints;
      need(problems, Array.isArray(endpoints) && endpoints.length > 0, "spec.endpoints");
      for (const e of Array.isArray(endpoints) ? endpoints : []) {
        need(problems, isRecord(e) && nonEmptyString(e.port), "endpoint.port (a Service port name)");
      }
      return problems;
    }
    case "monitoring.coreos.com/v1/PrometheusRule": {
      const groups = s.groups;
      need(problems, Array.isArray(groups) && groups.length > 0, "spec.groups");
      for (const g of Array.isArray(groups) ? groups : []) {
        need(problems, isRecord(g) && nonEmptyString(g.name), "group.name");
        const rules = isRecord(g) ? g.rules : undefined;
        need(problems, Array.isArray(rules) && rules.length > 0, "group.rules");
        for (const r of Array.isArray(rules) ? rules : []) {
          need(problems, isRecord(r) && nonEmptyString(r.expr), "rule.expr");
          need(
            problems,
            isRecord(r) && nonEmptyString(r.alert) !== nonEmptyString(r.record),
            "rule has exactly one of alert and record",
          );
        }
      }
      return problems;
    }
    case "cert-manager.io/v1/Certificate": {
      need(problems, nonEmptyString(s.secretName), "spec.secretName");
      const issuer = s.issuerRef;
      need(problems, isRecord(issuer) && nonEmptyString(issuer.name), "spec.issuerRef.name");
      const names = [s.commonName, ...(Array.isArray(s.dnsNames) ? s.dnsNames : [])];
      const uris = Array.isArray(s.uris) ? s.uris : [];
      need(
        problems,
        names.some(nonEmptyString) || uris.length > 0,
        "a subject (commonName, dnsNames or uris)",
      );
      return problems;
    }
    case "gateway.networking.k8s.io/v1/GRPCRoute":
    case "gateway.networking.k8s.io/v1/HTTPRoute": {
      const parents = s.parentRefs;
      need(problems, Array.isArray(parents) && parents.length > 0, "spec.parentRefs");
      for (const p of Array.isArray(parents) ? parents : []) {
        need(problems, isRecord(p) && nonEmptyString(p.name), "parentRef.name");
      }
      checkBackendRefs(problems, s.rules);
      return problems;
    }
    default:
      return undefined;
  }
}
