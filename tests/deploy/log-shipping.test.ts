/**
 * Log shipping and the local compose stack (production.md OBS-005, OBS-003 provisioning). There is
 * no Docker engine or Fluent Bit/Loki binary here, so the files are checked by parsing: the compose
 * services, images, ports, mounts (every bind-mount source exists) and the wiring between them
 * (log driver -> Fluent Bit -> Loki, OTLP -> Jaeger, Prometheus -> mlsdm:8080); Prometheus' config
 * passes `promtool check config`; Loki's retention is explicit; Fluent Bit parses MLSDM's JSON lines
 * and labels only low-cardinality fields (never request_id, trace_id, span_id); Grafana's Loki
 * datasource links trace_id to the trace datasource; LogQL examples use only those labels.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadConfig } from "../../src/config/index.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const composeDir = join(root, "deploy/compose");
const lokiDir = join(root, "deploy/monitoring/loki");
const read = (path: string): string => readFileSync(join(root, path), "utf8");

interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string };
  ports?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  command?: string[];
  logging?: { driver: string; options?: Record<string, string> };
  depends_on?: string[];
}
const compose = parse(read("deploy/compose/docker-compose.yml")) as { services: Record<string, Service> };
const services = compose.services;

function service(name: string): Service {
  const found = services[name];
  if (found === undefined) throw new Error(`no compose service ${name}`);
  return found;
}

/** Bind mounts of a service: host path (resolved against the compose file's directory) -> container path. */
function binds(s: Service): Map<string, string> {
  const out = new Map<string, string>();
  for (const volume of s.volumes ?? []) {
    const [source = "", target = ""] = volume.split(":");
    if (source.startsWith(".") || source.startsWith("/")) out.set(resolve(composeDir, source), target);
  }
  return out;
}

/** The container path where a repository file is mounted in a service. */
function mountOf(s: Service, repoPath: string): string | undefined {
  return binds(s).get(join(root, repoPath));
}

/** Published host ports (container side) of a service. */
const containerPorts = (s: Service): string[] => (s.ports ?? []).map((p) => p.split(":").at(-1) ?? "");

/** Fluent Bit classic config: [SECTION] headers, then `Key value` lines; keys are case-insensitive. */
function fluentBit(text: string): { section: string; entries: Map<string, string> }[] {
  const sections: { section: string; entries: Map<string, string> }[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const header = /^\[([A-Z_]+)\]$/.exec(line);
    if (header?.[1] !== undefined) {
      sections.push({ section: header[1], entries: new Map() });
      continue;
    }
    const entry = /^(\S+)\s+(.+)$/.exec(line);
    const current = sections.at(-1);
    if (entry?.[1] === undefined || entry[2] === undefined || current === undefined) {
      throw new Error(`unparsable Fluent Bit line: ${raw}`);
    }
    // Repeated keys (e.g. modify's Set) are kept joined by newlines.
    const key = entry[1].toLowerCase();
    const previous = current.entries.get(key);
    current.entries.set(key, previous === undefined ? entry[2].trim() : `${previous}\n${entry[2].trim()}`);
  }
  return sections;
}

const fluentConf = fluentBit(readFileSync(join(lokiDir, "fluent-bit.conf"), "utf8"));
const parsersConf = fluentBit(readFileSync(join(lokiDir, "parsers.conf"), "utf8"));
const sectionsOf = (conf: typeof fluentConf, name: string): Map<string, string>[] =>
  conf.filter((s) => s.section === name).map((s) => s.entries);
const lokiOutput = sectionsOf(fluentConf, "OUTPUT").find((o) => o.get("name") === "loki");

/** Labels the Fluent Bit Loki output attaches: static `Labels` keys and promoted `Label_keys`. */
function shippedLabels(): string[] {
  const statics = (lokiOutput?.get("labels") ?? "").split(",").map((l) => l.trim().split("=")[0] ?? "");
  const promoted = (lokiOutput?.get("label_keys") ?? "").split(",").map((l) => l.trim().replace(/^\$/, ""));
  return [...statics, ...promoted].filter((l) => l !== "");
}

/** Fluent Bit Match patterns are globs with `*`. */
const globMatches = (pattern: string, tag: string): boolean =>
  new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`).test(tag);

describe("compose stack", () => {
  it("runs mlsdm, Prometheus, Grafana, Loki, Fluent Bit, Jaeger and Redis from pinned images", () => {
    const images: Record<string, RegExp> = {
      prometheus: /^prom\/prometheus:v\d+\.\d+\.\d+$/,
      grafana: /^grafana\/grafana:\d+\.\d+\.\d+$/,
      loki: /^grafana\/loki:3\.\d+\.\d+$/,
      "fluent-bit": /^fluent\/fluent-bit:\d+\.\d+\.\d+$/,
      jaeger: /^jaegertracing\/all-in-one:\d+\.\d+\.\d+$/,
      redis: /^redis:\d+\.\d+\.\d+-alpine$/,
    };
    expect(Object.keys(services).sort()).toEqual(["mlsdm", ...Object.keys(images)].sort());
    for (const [name, image] of Object.entries(images)) expect(service(name).image, name).toMatch(image);
    for (const s of Object.values(services)) {
      for (const dependency of s.depends_on ?? []) expect(Object.keys(services)).toContain(dependency);
    }
  });

  it("builds mlsdm from the top-level Dockerfile and publishes both listeners", () => {
    const mlsdm = service("mlsdm");
    expect(resolve(composeDir, mlsdm.build?.context ?? "")).toBe(resolve(root));
    expect(
      existsSync(join(resolve(composeDir, mlsdm.build?.context ?? ""), mlsdm.build?.dockerfile ?? "")),
    ).toBe(true);
    expect(mlsdm.ports).toEqual(expect.arrayContaining(["127.0.0.1:50051:50051", "127.0.0.1:8080:8080"]));
  });

  it("gives mlsdm an environment the configuration loader accepts, JSON logs and OTLP traces to Jaeger", () => {
    const env = service("mlsdm").environment ?? {};
    expect(env.MLSDM_LOG_FORMAT).toBe("json");
    expect(env.OTEL_TRACES_EXPORTER).toBe("otlp");
    const endpoint = new URL(env.OTEL_EXPORTER_OTLP_ENDPOINT ?? "");
    expect(endpoint.hostname).toBe("jaeger");
    // docs/observability.md: the OTLP exporter speaks HTTP, so the collector's OTLP/HTTP port.
    expect(endpoint.port).toBe("4318");
    expect(containerPorts(service("jaeger"))).toContain("4318");
    expect(service("jaeger").environment?.COLLECTOR_OTLP_ENABLED).toBe("true");
    const mlsdmEnv = Object.fromEntries(Object.entries(env).filter(([key]) => key.startsWith("MLSDM_")));
    const loaded = loadConfig({ env: { MLSDM_HOST: "0.0.0.0", ...mlsdmEnv }, isTty: false });
    expect(loaded.warnings).toEqual([]);
  });

  it("mounts only files that exist, where each tool reads them", () => {
    for (const [name, s] of Object.entries(services)) {
      for (const source of binds(s).keys()) expect(existsSync(source), `${name}: ${source}`).toBe(true);
    }
    const prometheus = service("prometheus");
    expect(prometheus.command).toContain("--config.file=/etc/prometheus/prometheus.yml");
    expect(mountOf(prometheus, "deploy/compose/prometheus.yml")).toBe("/etc/prometheus/prometheus.yml");
    expect(mountOf(prometheus, "deploy/monitoring/alerts.yml")).toBe("/etc/prometheus/alerts.yml");
    const loki = service("loki");
    const lokiConfig = mountOf(loki, "deploy/monitoring/loki/loki-config.yaml");
    expect(loki.command).toContain(`-config.file=${lokiConfig ?? "?"}`);
    const fluent = service("fluent-bit");
    expect(mountOf(fluent, "deploy/monitoring/loki/fluent-bit.conf")).toBe("/fluent-bit/etc/fluent-bit.conf");
    expect(mountOf(fluent, "deploy/monitoring/loki/parsers.conf")).toBe("/fluent-bit/etc/parsers.conf");
  });

  it("provisions Grafana's datasources and both dashboards into the provider's folder", () => {
    const grafana = service("grafana");
    expect(mountOf(grafana, "deploy/monitoring/grafana/provisioning/datasources.yml")).toMatch(
      /^\/etc\/grafana\/provisioning\/datasources\/[^/]+\.yml$/,
    );
    expect(mountOf(grafana, "deploy/monitoring/grafana/provisioning/dashboards.yml")).toMatch(
      /^\/etc\/grafana\/provisioning\/dashboards\/[^/]+\.yml$/,
    );
    const provider = (
      parse(read("deploy/monitoring/grafana/provisioning/dashboards.yml")) as {
        apiVersion: number;
        providers: { type: string; options: { path: string } }[];
      }
    ).providers[0];
    expect(provider?.type).toBe("file");
    for (const file of ["mlsdm-overview.json", "mlsdm-slo.json"]) {
      expect(mountOf(grafana, `deploy/monitoring/grafana/${file}`)).toBe(
        `${provider?.options.path ?? "?"}/${file}`,
      );
    }
  });

  it("has a Prometheus config that scrapes mlsdm:8080/metrics as job mlsdm and passes promtool", () => {
    const config = parse(read("deploy/compose/prometheus.yml")) as {
      rule_files: string[];
      scrape_configs: { job_name: string; metrics_path?: string; static_configs: { targets: string[] }[] }[];
    };
    const job = config.scrape_configs.find((c) => c.job_name === "mlsdm");
    expect(job?.metrics_path ?? "/metrics").toBe("/metrics");
    expect(job?.static_configs.flatMap((c) => c.targets)).toEqual(["mlsdm:8080"]);
    expect(containerPorts(service("mlsdm"))).toContain("8080");
    expect(config.rule_files).toEqual(["alerts.yml"]);
    const dir = mkdtempSync(join(tmpdir(), "mlsdm-compose-"));
    try {
      copyFileSync(join(composeDir, "prometheus.yml"), join(dir, "prometheus.yml"));
      copyFileSync(join(root, "deploy/monitoring/alerts.yml"), join(dir, "alerts.yml"));
      const out = execFileSync("promtool", ["check", "config", "prometheus.yml"], {
        cwd: dir,
        encoding: "utf8",
      });
      expect(out).toContain("SUCCESS");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("Loki", () => {
  const text = readFileSync(join(lokiDir, "loki-config.yaml"), "utf8");
  const config = parse(text) as {
    limits_config: { retention_period: string };
    compactor: { retention_enabled: boolean; delete_request_store?: string };
    schema_config: { configs: { store: string; schema: string }[] };
  };

  it("sets retention explicitly (7-30 days), enforced by the compactor, with a compliance note", () => {
    const match = /^(\d+)(h|d)$/.exec(config.limits_config.retention_period);
    expect(match).not.toBeNull();
    const days = Number(match?.[1]) / (match?.[2] === "h" ? 24 : 1);
    expect(days).toBeGreaterThanOrEqual(7);
    expect(days).toBeLessThanOrEqual(30);
    expect(config.compactor.retention_enabled).toBe(true);
    expect(config.compactor.delete_request_store).toBeDefined();
    expect(text).toMatch(/compliance/i);
    expect(config.schema_config.configs.at(-1)).toMatchObject({ store: "tsdb", schema: "v13" });
  });
});

describe("Fluent Bit", () => {
  it("receives the mlsdm container's logs on the port its log driver sends to", () => {
    const logging = service("mlsdm").logging;
    expect(logging?.driver).toBe("fluentd");
    const port = (logging?.options?.["fluentd-address"] ?? "").split(":").at(-1);
    const forward = sectionsOf(fluentConf, "INPUT").find((i) => i.get("name") === "forward");
    expect(forward?.get("port")).toBe(port);
    expect(containerPorts(service("fluent-bit"))).toContain(port);
    const tag = logging?.options?.tag ?? "";
    for (const section of [...sectionsOf(fluentConf, "FILTER"), ...sectionsOf(fluentConf, "OUTPUT")]) {
      expect(globMatches(section.get("match") ?? "", tag), section.get("name")).toBe(true);
    }
  });

  it("parses each stdout line as MLSDM JSON with its ISO timestamp", () => {
    const services_ = sectionsOf(fluentConf, "SERVICE")[0];
    expect(existsSync(join(lokiDir, services_?.get("parsers_file") ?? "?"))).toBe(true);
    const filter = sectionsOf(fluentConf, "FILTER").find((f) => f.get("name") === "parser");
    expect(filter?.get("key_name")).toBe("log");
    expect(filter?.get("reserve_data")?.toLowerCase()).toBe("on");
    const parser = sectionsOf(parsersConf, "PARSER").find((p) => p.get("name") === filter?.get("parser"));
    expect(parser?.get("format")).toBe("json");
    expect(parser?.get("time_key")).toBe("timestamp");
    // winston.format.timestamp() writes Date#toISOString(): 2024-05-01T12:00:00.123Z.
    expect(parser?.get("time_format")).toBe("%Y-%m-%dT%H:%M:%S.%LZ");
  });

  it("ships to the compose Loki with low-cardinality labels only", () => {
    expect(lokiOutput?.get("host")).toBe("loki");
    expect(containerPorts(service("loki"))).toContain(lokiOutput?.get("port"));
    expect(lokiOutput?.get("line_format")).toBe("json");
    const labels = shippedLabels();
    expect(labels).toEqual(expect.arrayContaining(["job", "level", "error_code", "method"]));
    for (const forbidden of ["request_id", "trace_id", "span_id", "message", "duration_ms", "timestamp"]) {
      expect(labels).not.toContain(forbidden);
    }
    // The line keeps the ids so LogQL can filter on them with | json.
    expect(lokiOutput?.get("remove_keys") ?? "").not.toMatch(/request_id|trace_id/);
  });
});

describe("Grafana Loki datasource and LogQL examples", () => {
  interface Datasource {
    name: string;
    uid: string;
    type: string;
    url: string;
    jsonData?: { derivedFields?: { matcherRegex: string; datasourceUid: string; url: string }[] };
  }
  const datasources = (
    parse(read("deploy/monitoring/grafana/provisioning/datasources.yml")) as { datasources: Datasource[] }
  ).datasources;

  it("provisions Prometheus and Loki at the compose services", () => {
    const byType = (type: string): Datasource | undefined => datasources.find((d) => d.type === type);
    expect(new URL(byType("prometheus")?.url ?? "").host).toBe("prometheus:9090");
    expect(containerPorts(service("prometheus"))).toContain("9090");
    expect(new URL(byType("loki")?.url ?? "").host).toBe("loki:3100");
  });

  it("turns a log line's trace_id into a link to the trace in Jaeger", () => {
    const loki = datasources.find((d) => d.type === "loki");
    const field = loki?.jsonData?.derivedFields?.[0];
    expect(field).toBeDefined();
    const target = datasources.find((d) => d.uid === field?.datasourceUid);
    expect(["jaeger", "tempo"]).toContain(target?.type);
    expect(new URL(target?.url ?? "").host).toBe("jaeger:16686");
    expect(containerPorts(service("jaeger"))).toContain("16686");
    // A line as Fluent Bit ships it (Line_format json).
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const line = JSON.stringify({ level: "info", method: "/m", request_id: "r1", trace_id: traceId });
    expect(new RegExp(field?.matcherRegex ?? "^$").exec(line)?.[1]).toBe(traceId);
    // `$$` is Grafana provisioning's escape for a literal `$`.
    expect(field?.url).toBe("$${__value.raw}");
  });

  it("LogQL examples cover errors by code, timeouts, auth failures and emergency events, on shipped labels", () => {
    const text = read("deploy/monitoring/loki/logql-examples.md");
    const queries = [...text.matchAll(/```logql\n([\s\S]*?)```/g)]
      .flatMap((m) => (m[1] ?? "").split("\n"))
      .filter((line) => line.trim() !== "" && !line.startsWith("#"));
    expect(queries.some((q) => q.includes("sum by (error_code)"))).toBe(true);
    expect(queries.some((q) => q.includes('error_code=~"E601|E706"'))).toBe(true);
    expect(queries.some((q) => q.includes('error_code=~"E2[0-9][0-9]"'))).toBe(true);
    expect(queries.some((q) => q.includes('event=~"emergency_'))).toBe(true);
    const labels = new Set(shippedLabels());
    for (const query of queries) {
      for (const selector of query.matchAll(/\{([^}]*)\}/g)) {
        if ((selector[1] ?? "").startsWith("{")) continue; // a line_format template
        for (const matcher of (selector[1] ?? "").matchAll(/([a-z_]+)\s*(=~|!~|!=|=)/g)) {
          expect(labels.has(matcher[1] ?? ""), `${query}: ${matcher[1] ?? ""}`).toBe(true);
        }
      }
    }
  });
});
