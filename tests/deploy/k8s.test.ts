// Kubernetes manifests (deploy/k8s): every overlay renders with `kubectl kustomize`, every object
// is schema-valid, and the properties the manifests promise hold in the rendered output: the pod
// hardening, gRPC probes on the server's own ports, the shutdown budget, capacity figures from
// spec/production.md, configuration that the real loader accepts and the docs table lists, a
// NetworkPolicy that opens only the two listeners, and a canary split that sums to 100.
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { configEntries, configSchema, loadConfig } from "../../src/config/index.js";
import {
  BUILT_IN,
  crdProblems,
  k8sRoot,
  kustomize,
  kustomizeComposed,
  repoRoot,
  validateBuiltIn,
  type K8sObject,
} from "./support/kustomize.js";

// Loose views of the fields read below.
interface Probe {
  grpc?: { port: number; service?: string };
  periodSeconds?: number;
  failureThreshold?: number;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string } };
}
interface Container {
  name: string;
  image: string;
  ports?: { name: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown> & { capabilities?: { drop?: string[]; add?: string[] } };
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  lifecycle?: { preStop?: { sleep?: { seconds: number }; exec?: unknown } };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface PodSpec {
  containers: Container[];
  securityContext?: Record<string, unknown> & { seccompProfile?: { type: string } };
  terminationGracePeriodSeconds?: number;
  enableServiceLinks?: boolean;
  automountServiceAccountToken?: boolean;
  serviceAccountName?: string;
  volumes?: { name: string; emptyDir?: { sizeLimit?: string }; secret?: { secretName: string } }[];
}
interface DeploymentSpec {
  replicas?: number;
  selector: { matchLabels: Record<string, string> };
  strategy?: { rollingUpdate?: { maxUnavailable?: number | string } };
  template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
}
interface ServicePort {
  name: string;
  port: number;
  targetPort: string | number;
  appProtocol?: string;
}
interface Rules {
  rules: { backendRefs: { name: string; port: number; weight: number }[] }[];
}
interface NetworkPolicyPeerPorts {
  ports?: { port: number | string; protocol?: string }[];
  from?: unknown[];
  to?: { ipBlock?: { cidr: string } }[];
}

const defaults = configSchema.parse({});
const SERVER = { "app.kubernetes.io/name": "mlsdm", "app.kubernetes.io/component": "server" };
const DATA_DIR = "/var/lib/mlsdm";
/** Engine readiness: NOT_SERVING in emergency shutdown, drain and start-up (src/app.ts). */
const READINESS_SERVICE = "mlsdm.v1.EngineService";
/** After the drain, src/app.ts gives both listeners 1 s to close before it cuts connections. */
const LISTENER_CLOSE_SECONDS = 1;
/** Environment names added by work in flight; checked like the rest once documented (none now). */
const PENDING_ENV = new Set<string>();

/** MLSDM_* names in the Keys table of docs/configuration.md (generated from the schema). */
const documentedEnv = new Set(
  [
    ...readFileSync(path.join(repoRoot, "docs/configuration.md"), "utf8").matchAll(
      /^\| `[^`]+`\s+\| `(MLSDM_[A-Z0-9_]+)`/gm,
    ),
  ].map((m) => m[1] ?? ""),
);
const secretEnv = new Set(
  configEntries()
    .filter((e) => e.secret)
    .map((e) => e.env),
);

const OVERLAYS: Record<string, () => K8sObject[]> = {
  dev: () => kustomize(path.join(k8sRoot, "overlays/dev")),
  production: () => kustomize(path.join(k8sRoot, "overlays/production")),
  canary: () => kustomize(path.join(k8sRoot, "overlays/canary")),
  "canary-rollback": () => kustomize(path.join(k8sRoot, "overlays/canary-rollback")),
  "production + mtls": () => kustomizeComposed(["overlays/production"], ["components/mtls"]),
};

const rendered = new Map<string, K8sObject[]>();
function objects(overlay: string): K8sObject[] {
  let list = rendered.get(overlay);
  if (list === undefined) {
    const render = OVERLAYS[overlay];
    if (render === undefined) throw new Error(`unknown overlay ${overlay}`);
    list = render();
    rendered.set(overlay, list);
  }
  return list;
}
function ofKind(list: K8sObject[], kind: string): K8sObject[] {
  return list.filter((o) => o.kind === kind);
}
function named(list: K8sObject[], kind: string, name: string): K8sObject {
  const found = list.find((o) => o.kind === kind && o.metadata.name === name);
  if (found === undefined) throw new Error(`no ${kind}/${name}`);
  return found;
}
// A typed view of a loosely typed field (like a cast of JSON.parse); the tests then assert on it.
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
function spec<T>(obj: K8sObject): T {
  return obj.spec as T;
}
function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}
/** The MLSDM server Deployments (stable, and canary where present). */
function servers(list: K8sObject[]): K8sObject[] {
  return ofKind(list, "Deployment").filter((d) => selects(SERVER, d.metadata.labels ?? {}));
}
function mainContainer(d: K8sObject): Container {
  const c = spec<DeploymentSpec>(d).template.spec.containers.find((x) => x.name === "mlsdm");
  if (c === undefined) throw new Error(`${d.metadata.name} has no mlsdm container`);
  return c;
}
/** Mebibytes of a Kubernetes quantity such as 512Mi or 2Gi. */
function mebibytes(quantity: string): number {
  const m = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (m === null) throw new Error(`unsupported quantity ${quantity}`);
  return Number(m[1]) * (m[2] === "Gi" ? 1024 : 1);
}

/** The container's environment as the kubelet would build it (Secrets resolved where rendered). */
function containerEnv(list: K8sObject[], c: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of c.envFrom ?? []) {
    const ref = source.configMapRef?.name;
    if (ref !== undefined) Object.assign(env, named(list, "ConfigMap", ref).data as Record<string, string>);
  }
  for (const v of c.env ?? []) {
    if (v.value !== undefined) env[v.name] = v.value;
    const ref = v.valueFrom?.secretKeyRef;
    const secret = ref && list.find((o) => o.kind === "Secret" && o.metadata.name === ref.name);
    if (ref && secret) {
      const data = secret.data as Record<string, string> | undefined;
      const value = data?.[ref.key];
      if (value !== undefined) env[v.name] = Buffer.from(value, "base64").toString("utf8");
    }
  }
  return env;
}

describe("kustomize and schema validation", () => {
  it("the validator is live: a malformed Deployment is refused", () => {
    const broken = {
      metadata: { name: "x" },
      spec: {
        selector: {},
        template: { spec: { containers: [{ name: "a", ports: [{ containerPort: "grpc" }] }] } },
      },
    };
    expect(() => {
      new Deployment(broken as never).validate();
    }).toThrow(/containerPort/);
  });

  describe.each(Object.keys(OVERLAYS))("%s", (overlay) => {
    it("renders with kubectl kustomize", () => {
      expect(objects(overlay).length).toBeGreaterThan(5);
    });

    it("every built-in object is valid against the Kubernetes OpenAPI schema", () => {
      for (const obj of objects(overlay).filter((o) => BUILT_IN[`${o.apiVersion}/${o.kind}`] !== undefined)) {
        expect(() => {
          validateBuiltIn(obj);
        }).not.toThrow();
      }
    });

    it("every other object is a known CRD kind with its required fields", () => {
      for (const obj of objects(overlay).filter((o) => BUILT_IN[`${o.apiVersion}/${o.kind}`] === undefined)) {
        const problems = crdProblems(obj);
        expect(problems, `${obj.apiVersion} ${obj.kind} has no validator`).toBeDefined();
        expect(problems, `${obj.kind}/${obj.metadata.name}`).toEqual([]);
      }
    });

    it("every namespaced object lands in the overlay's namespace (none in default)", () => {
      const namespaces = new Set(
        objects(overlay)
          .filter((o) => o.kind !== "Namespace")
          .map((o) => o.metadata.namespace),
      );
      if (overlay === "production + mtls") return; // composed without a namespace of its own
      expect([...namespaces]).toHaveLength(1);
      expect([...namespaces][0]).toMatch(/^mlsdm/);
    });
  });
});

describe.each(Object.keys(OVERLAYS))("server Deployment in %s", (overlay) => {
  const list = (): K8sObject[] => objects(overlay);

  it("has a server Deployment whose selector matches its pod labels", () => {
    expect(servers(list()).length).toBeGreaterThan(0);
    for (const d of servers(list())) {
      const s = spec<DeploymentSpec>(d);
      expect(selects(s.selector.matchLabels, s.template.metadata.labels)).toBe(true);
      expect(s.template.metadata.labels).toMatchObject({ ...SERVER, "app.kubernetes.io/part-of": "mlsdm" });
      expect(["stable", "canary"]).toContain(s.template.metadata.labels.track);
      expect(s.strategy?.rollingUpdate?.maxUnavailable).toBe(0);
    }
  });

  it("runs non-root with a read-only root, no capabilities, no escalation, seccomp RuntimeDefault", () => {
    for (const d of servers(list())) {
      const pod = spec<DeploymentSpec>(d).template.spec;
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 65532,
        runAsGroup: 65532,
        seccompProfile: { type: "RuntimeDefault" },
      });
      expect(pod.automountServiceAccountToken).toBe(false);
      // Service links would inject MLSDM_PORT, MLSDM_SERVICE_HOST, ... which the loader reads.
      expect(pod.enableServiceLinks).toBe(false);
      for (const c of pod.containers) {
        expect(c.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ["ALL"] },
        });
        expect(c.securityContext?.privileged ?? false).toBe(false);
        expect(c.securityContext?.capabilities?.add ?? []).toEqual([]);
      }
    }
  });

  it("gives the data dir and /tmp writable volumes (the root filesystem is read-only)", () => {
    for (const d of servers(list())) {
      const pod = spec<DeploymentSpec>(d).template.spec;
      const env = containerEnv(list(), mainContainer(d));
      expect(env.MLSDM_DATA_DIR).toBe(DATA_DIR);
      const mounts = mainContainer(d).volumeMounts ?? [];
      for (const dir of [DATA_DIR, "/tmp"]) {
        const mount = mounts.find((m) => m.mountPath === dir);
        expect(mount, dir).toBeDefined();
        expect(mount?.readOnly ?? false).toBe(false);
        const volume = pod.volumes?.find((v) => v.name === mount?.name);
        expect(volume?.emptyDir?.sizeLimit, `${dir} is a size-limited emptyDir`).toBeDefined();
      }
    }
  });

  it("requests and limits are the spec's capacity figures (250m/512Mi, 1 CPU/2Gi)", () => {
    for (const d of servers(list())) {
      expect(mainContainer(d).resources).toEqual({
        requests: { cpu: "250m", memory: "512Mi" },
        limits: { cpu: "1", memory: "2Gi" },
      });
    }
  });

  it("probes grpc.health.v1 on the configured gRPC port: startup and liveness the server, readiness the engine", () => {
    for (const d of servers(list())) {
      const c = mainContainer(d);
      for (const probe of [c.startupProbe, c.livenessProbe, c.readinessProbe]) {
        expect(probe?.grpc?.port).toBe(defaults.server.grpcPort);
      }
      expect(c.startupProbe?.grpc?.service ?? "").toBe("");
      expect(c.livenessProbe?.grpc?.service ?? "").toBe("");
      expect(c.readinessProbe?.grpc?.service).toBe(READINESS_SERVICE);
    }
  });

  it("container ports and the effective configuration use the server's default ports", () => {
    for (const d of servers(list())) {
      const c = mainContainer(d);
      expect(c.ports).toEqual([
        expect.objectContaining({ name: "grpc", containerPort: defaults.server.grpcPort }),
        expect.objectContaining({ name: "http", containerPort: defaults.server.httpPort }),
      ]);
      const { config } = loadConfig({ env: containerEnv(list(), c) });
      expect(config.server.grpcPort).toBe(defaults.server.grpcPort);
      expect(config.server.httpPort).toBe(defaults.server.httpPort);
      expect(config.server.host).toBe("0.0.0.0");
    }
  });

  it("terminationGracePeriodSeconds exceeds preStop sleep + shutdown delay + drain + listener close", () => {
    for (const d of servers(list())) {
      const pod = spec<DeploymentSpec>(d).template.spec;
      const c = mainContainer(d);
      const sleep = c.lifecycle?.preStop?.sleep?.seconds;
      expect(sleep, "preStop is the kubelet sleep action (no shell in the image)").toBeGreaterThanOrEqual(5);
      expect(c.lifecycle?.preStop?.exec).toBeUndefined();
      const { server } = loadConfig({ env: containerEnv(list(), c) }).config;
      const shutdown =
        (server.drainTimeoutMs + server.shutdownDelayMs) / 1000 + (sleep ?? 0) + LISTENER_CLOSE_SECONDS;
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(shutdown);
      // A liveness probe during termination must not kill a drain still in progress.
      const live = c.livenessProbe;
      const livenessWindow = (live?.periodSeconds ?? 10) * (live?.failureThreshold ?? 3);
      expect(livenessWindow).toBeGreaterThan(
        (server.drainTimeoutMs + server.shutdownDelayMs) / 1000 + LISTENER_CLOSE_SECONDS,
      );
    }
  });

  it("the engine's memory guards fire below the container memory limit", () => {
    for (const d of servers(list())) {
      const c = mainContainer(d);
      const { config } = loadConfig({ env: containerEnv(list(), c) });
      const limitMb = mebibytes(c.resources?.limits?.memory ?? "0Mi");
      expect(config.controller.rssLimitMb).toBeLessThan(limitMb);
      const data = spec<DeploymentSpec>(d).template.spec.volumes?.find((v) => v.name === "data");
      const cap = config.state.maxDatabaseMb;
      expect(cap).toBeGreaterThan(0);
      expect(cap).toBeLessThan(mebibytes(data?.emptyDir?.sizeLimit ?? "0Mi"));
    }
  });

  it("every MLSDM_* name in the ConfigMaps is in docs/configuration.md, and the loader accepts them all", () => {
    const configMaps = ofKind(list(), "ConfigMap");
    expect(configMaps.length).toBeGreaterThan(0);
    for (const cm of configMaps) {
      for (const name of Object.keys((cm.data as Record<string, string> | undefined) ?? {})) {
        if (!name.startsWith("MLSDM_") || (PENDING_ENV.has(name) && !documentedEnv.has(name))) continue;
        expect(documentedEnv, `${cm.metadata.name}: ${name}`).toContain(name);
      }
    }
    for (const d of servers(list())) {
      const env = containerEnv(list(), mainContainer(d));
      for (const name of Object.keys(env).filter((n) => n.startsWith("MLSDM_"))) {
        if (PENDING_ENV.has(name) && !documentedEnv.has(name)) continue;
        expect(documentedEnv, `${d.metadata.name}: ${name}`).toContain(name);
      }
      const { warnings } = loadConfig({ env });
      const unexpected = warnings.filter(
        (w) => ![...PENDING_ENV].some((p) => w.includes(p) && !documentedEnv.has(p)),
      );
      expect(unexpected).toEqual([]);
    }
  });

  it("secret settings come only from Secrets, never from a ConfigMap or a literal", () => {
    expect(secretEnv).toContain("MLSDM_ADMIN_API_KEY");
    for (const cm of ofKind(list(), "ConfigMap")) {
      const keys = Object.keys((cm.data as Record<string, string> | undefined) ?? {});
      expect(keys.filter((k) => secretEnv.has(k) || /API_KEY|SECRET|PASSWORD|TOKEN/.test(k))).toEqual([]);
    }
    for (const d of servers(list())) {
      const env = mainContainer(d).env ?? [];
      for (const name of ["MLSDM_API_KEY", "MLSDM_READ_API_KEY", "MLSDM_ADMIN_API_KEY"]) {
        expect(env.find((v) => v.name === name)?.valueFrom?.secretKeyRef, name).toBeDefined();
      }
      for (const v of env.filter((x) => secretEnv.has(x.name))) {
        expect(v.value, v.name).toBeUndefined();
        expect(v.valueFrom?.secretKeyRef, v.name).toBeDefined();
      }
    }
  });

  it("the Service exposes named ports grpc and http on the server's ports, h2c for gRPC", () => {
    const services = ofKind(list(), "Service").filter((s) =>
      selects(SERVER, spec<{ selector: Record<string, string> }>(s).selector),
    );
    expect(services.map((s) => s.metadata.name)).toContain("mlsdm");
    for (const s of services) {
      const ports = spec<{ ports: ServicePort[] }>(s).ports;
      expect(ports.map((p) => [p.name, p.port, p.targetPort])).toEqual([
        ["grpc", defaults.server.grpcPort, "grpc"],
        ["http", defaults.server.httpPort, "http"],
      ]);
      expect(["kubernetes.io/h2c", "grpc"]).toContain(ports[0]?.appProtocol);
      // Every selected pod exposes the target port names.
      for (const d of servers(list())) {
        if (
          !selects(
            spec<{ selector: Record<string, string> }>(s).selector,
            spec<DeploymentSpec>(d).template.metadata.labels,
          )
        )
          continue;
        const names = (mainContainer(d).ports ?? []).map((p) => p.name);
        for (const p of ports) expect(names).toContain(p.targetPort);
      }
    }
  });

  it("NetworkPolicies open ingress only on the two listener ports and egress only DNS, Redis, 443, OTLP", () => {
    const policies = ofKind(list(), "NetworkPolicy").filter((p) =>
      selects(spec<{ podSelector: { matchLabels: Record<string, string> } }>(p).podSelector.matchLabels, {
        ...SERVER,
        track: "stable",
      }),
    );
    expect(policies.length).toBeGreaterThan(0);
    const types = new Set(policies.flatMap((p) => spec<{ policyTypes: string[] }>(p).policyTypes));
    expect([...types].sort()).toEqual(["Egress", "Ingress"]);
    const ingress = policies.flatMap((p) => spec<{ ingress?: NetworkPolicyPeerPorts[] }>(p).ingress ?? []);
    expect(ingress.length).toBeGreaterThan(0);
    const ingressPorts = new Set<number | string>();
    for (const rule of ingress) {
      // A rule without ports or peers would open everything.
      expect(rule.ports?.length, "ingress rule lists ports").toBeGreaterThan(0);
      expect(rule.from?.length, "ingress rule lists peers").toBeGreaterThan(0);
      for (const p of rule.ports ?? []) ingressPorts.add(p.port);
    }
    expect([...ingressPorts].sort()).toEqual([defaults.server.httpPort, defaults.server.grpcPort].sort());
    const egress = policies.flatMap((p) => spec<{ egress?: NetworkPolicyPeerPorts[] }>(p).egress ?? []);
    const egressPorts = new Set<number | string>();
    for (const rule of egress) {
      expect(rule.ports?.length, "egress rule lists ports").toBeGreaterThan(0);
      expect(rule.to?.length, "egress rule lists peers").toBeGreaterThan(0);
      for (const p of rule.ports ?? []) egressPorts.add(p.port);
    }
    expect([...egressPorts].sort()).toEqual([53, 6379, 443, 4317, 4318].sort());
    const https = egress.filter((r) => r.ports?.some((p) => p.port === 443));
    expect(https.every((r) => r.to?.every((peer) => peer.ipBlock?.cidr !== undefined))).toBe(true);
  });
});

describe.each(["production", "canary", "production + mtls"])("scaling and monitoring in %s", (overlay) => {
  const list = (): K8sObject[] => objects(overlay);

  it("HPA autoscaling/v2 scales the stable Deployment 3-10 at 70 % CPU / 80 % memory", () => {
    const hpa = named(list(), "HorizontalPodAutoscaler", "mlsdm");
    const s = spec<{
      scaleTargetRef: { kind: string; name: string };
      minReplicas: number;
      maxReplicas: number;
      metrics: { resource: { name: string; target: { averageUtilization: number } } }[];
    }>(hpa);
    expect(hpa.apiVersion).toBe("autoscaling/v2");
    expect(named(list(), s.scaleTargetRef.kind, s.scaleTargetRef.name)).toBeDefined();
    expect([s.minReplicas, s.maxReplicas]).toEqual([3, 10]);
    const targets = Object.fromEntries(
      s.metrics.map((m) => [m.resource.name, m.resource.target.averageUtilization]),
    );
    expect(targets).toEqual({ cpu: 70, memory: 80 });
  });

  it("the PDB keeps 2 stable pods and still allows a drain at minimum scale", () => {
    const pdb = spec<{ minAvailable: number; selector: { matchLabels: Record<string, string> } }>(
      named(list(), "PodDisruptionBudget", "mlsdm"),
    );
    const hpa = spec<{ minReplicas: number }>(named(list(), "HorizontalPodAutoscaler", "mlsdm"));
    expect(pdb.minAvailable).toBe(2);
    expect(pdb.minAvailable).toBeLessThan(hpa.minReplicas);
    const stable = named(list(), "Deployment", "mlsdm");
    expect(selects(pdb.selector.matchLabels, spec<DeploymentSpec>(stable).template.metadata.labels)).toBe(
      true,
    );
  });

  it("the ServiceMonitor scrapes /metrics on the http port of exactly one Service", () => {
    const monitor = named(list(), "ServiceMonitor", "mlsdm");
    const s = spec<{
      selector: { matchLabels: Record<string, string> };
      endpoints: { port: string; path: string }[];
    }>(monitor);
    const matched = ofKind(list(), "Service").filter((svc) =>
      selects(s.selector.matchLabels, svc.metadata.labels ?? {}),
    );
    expect(matched.map((m) => m.metadata.name)).toEqual(["mlsdm"]);
    expect(s.endpoints).toEqual([expect.objectContaining({ port: "http", path: "/metrics" })]);
    const portNames = spec<{ ports: ServicePort[] }>(named(list(), "Service", "mlsdm")).ports.map(
      (p) => p.name,
    );
    expect(portNames).toContain("http");
  });

  it("the PrometheusRule is deploy/monitoring/prometheus-rule.yaml as generated", () => {
    const generated = parse(
      readFileSync(path.join(repoRoot, "deploy/monitoring/prometheus-rule.yaml"), "utf8"),
    ) as K8sObject;
    expect(named(list(), "PrometheusRule", "mlsdm-alerts").spec).toEqual(generated.spec);
  });

  it("MLSDM_REDIS_URL points at the Redis Service of components/redis", () => {
    const env = containerEnv(list(), mainContainer(named(list(), "Deployment", "mlsdm")));
    const url = new URL(env.MLSDM_REDIS_URL ?? "");
    const service = named(list(), "Service", url.hostname);
    expect(spec<{ ports: ServicePort[] }>(service).ports.map((p) => p.port)).toContain(Number(url.port));
    const redis = named(list(), "Deployment", url.hostname);
    expect(
      selects(
        spec<{ selector: Record<string, string> }>(service).selector,
        spec<DeploymentSpec>(redis).template.metadata.labels,
      ),
    ).toBe(true);
    const c = spec<DeploymentSpec>(redis).template.spec.containers[0];
    expect(c?.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
  });
});

describe("mtls component", () => {
  it("mounts the Secret the cert-manager Certificate writes, read-only", () => {
    const list = objects("production + mtls");
    const cert = named(list, "Certificate", "mlsdm-server");
    const secretName = spec<{ secretName: string }>(cert).secretName;
    const d = named(list, "Deployment", "mlsdm");
    const volume = spec<DeploymentSpec>(d).template.spec.volumes?.find(
      (v) => v.secret?.secretName === secretName,
    );
    expect(volume).toBeDefined();
    const mount = mainContainer(d).volumeMounts?.find((m) => m.name === volume?.name);
    expect(mount).toMatchObject({ mountPath: "/etc/mlsdm/tls", readOnly: true });
  });
});

describe.each([
  ["canary", 10, 1],
  ["canary-rollback", 0, 0],
])("canary split in %s", (overlay, canaryWeight, canaryReplicas) => {
  const list = (): K8sObject[] => objects(overlay);
  const routes = (): K8sObject[] => [...ofKind(list(), "GRPCRoute"), ...ofKind(list(), "HTTPRoute")];

  it("has a GRPCRoute for the gRPC listener and an HTTPRoute for the Connect listener", () => {
    expect(
      routes()
        .map((r) => r.kind)
        .sort(),
    ).toEqual(["GRPCRoute", "HTTPRoute"]);
    for (const r of routes()) expect(r.apiVersion).toBe("gateway.networking.k8s.io/v1");
  });

  it(`weights sum to 100 in every rule, canary at ${canaryWeight}`, () => {
    for (const r of routes()) {
      for (const rule of spec<Rules>(r).rules) {
        expect(rule.backendRefs.reduce((sum, b) => sum + b.weight, 0)).toBe(100);
        expect(rule.backendRefs.find((b) => b.name === "mlsdm-canary")?.weight).toBe(canaryWeight);
        expect(rule.backendRefs.find((b) => b.name === "mlsdm-stable")?.weight).toBe(100 - canaryWeight);
      }
    }
  });

  it("each backend is a Service port selecting exactly one track's Deployment", () => {
    const expectedPort = { GRPCRoute: defaults.server.grpcPort, HTTPRoute: defaults.server.httpPort };
    for (const r of routes()) {
      for (const ref of spec<Rules>(r).rules.flatMap((rule) => rule.backendRefs)) {
        const svc = named(list(), "Service", ref.name);
        expect(ref.port).toBe(expectedPort[r.kind as keyof typeof expectedPort]);
        expect(spec<{ ports: ServicePort[] }>(svc).ports.map((p) => p.port)).toContain(ref.port);
        const selector = spec<{ selector: Record<string, string> }>(svc).selector;
        const backing = servers(list()).filter((d) =>
          selects(selector, spec<DeploymentSpec>(d).template.metadata.labels),
        );
        expect(backing.map((d) => d.metadata.name)).toEqual([
          ref.name === "mlsdm-canary" ? "mlsdm-canary" : "mlsdm",
        ]);
      }
    }
  });

  it(`the canary Deployment runs ${canaryReplicas} replica(s), track canary, the stable pod spec but its own image`, () => {
    const stable = spec<DeploymentSpec>(named(list(), "Deployment", "mlsdm"));
    const canary = spec<DeploymentSpec>(named(list(), "Deployment", "mlsdm-canary"));
    expect(canary.replicas).toBe(canaryReplicas);
    expect(stable.replicas).toBe(3);
    expect(canary.strategy?.rollingUpdate?.maxUnavailable).toBe(0);
    expect(canary.template.metadata.labels.track).toBe("canary");
    expect(stable.template.metadata.labels.track).toBe("stable");
    const [s, c] = [stable.template.spec.containers[0], canary.template.spec.containers[0]];
    expect(c?.image).not.toBe(s?.image);
    const strip = (pod: PodSpec): unknown =>
      JSON.parse(
        JSON.stringify(pod, (k, v: unknown) =>
          // Generated ConfigMaps and Secrets get the -canary suffix: their content is compared elsewhere.
          k === "image" || (k === "name" && typeof v === "string" && /^mlsdm-(config|redis)-/.test(v))
            ? undefined
            : v,
        ),
      );
    expect(strip(canary.template.spec)).toEqual(strip(stable.template.spec));
  });

  it("the canary gates encode CICD-007: server-fault ratio < 0.5 % and P95 < 120 ms on track canary", () => {
    const rule = named(list(), "PrometheusRule", "mlsdm-canary-gates");
    const rules = spec<{ groups: { rules: { record?: string; alert?: string; expr: string }[] }[] }>(
      rule,
    ).groups.flatMap((g) => g.rules);
    const expr = (record: string): string => rules.find((r) => r.record === record)?.expr ?? "";
    expect(expr("mlsdm:canary_server_fault_ratio:rate10m")).toMatch(
      /mlsdm_rpc_requests_total\{[^}]*track="canary"/,
    );
    expect(expr("mlsdm:canary_p95_seconds:rate10m")).toMatch(
      /histogram_quantile\(0\.95,.*mlsdm_rpc_duration_seconds_bucket\{[^}]*track="canary"/s,
    );
    expect(expr("mlsdm:canary_gate_passing")).toMatch(/< bool 0\.005[\s\S]*< bool 0\.12/);
    const monitor = spec<{ podTargetLabels?: string[] }>(named(list(), "ServiceMonitor", "mlsdm"));
    expect(monitor.podTargetLabels).toContain("track");
  });
});
