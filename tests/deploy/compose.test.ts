// The local compose stack runs MLSDM hardened like the Kubernetes manifests: non-root, read-only
// root filesystem, no capabilities, a tmpfs /tmp and a named volume for the data dir.
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { checkStartup } from "../../src/policy/startup-checks.js";
import { startupFacts } from "../../src/policy/startup-facts.js";

interface ComposeService {
  user?: string;
  read_only?: boolean;
  cap_drop?: string[];
  security_opt?: string[];
  tmpfs?: string[] | string;
  volumes?: string[];
  environment?: Record<string, string>;
}
interface Compose {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const compose = parse(
  readFileSync(new URL("../../deploy/compose/docker-compose.yml", import.meta.url), "utf8"),
) as Compose;
const mlsdm = compose.services.mlsdm;
const DATA_DIR = "/var/lib/mlsdm";

describe("deploy/compose/docker-compose.yml: the mlsdm service", () => {
  it("runs as the image's non-root user 65532", () => {
    expect(mlsdm?.user).toBe("65532:65532");
  });

  it("has a read-only root filesystem, no capabilities and no privilege escalation", () => {
    expect(mlsdm?.read_only).toBe(true);
    expect(mlsdm?.cap_drop).toEqual(["ALL"]);
    expect(mlsdm?.security_opt).toContain("no-new-privileges:true");
  });

  it("mounts a tmpfs on /tmp", () => {
    const tmpfs = [mlsdm?.tmpfs ?? []].flat();
    expect(tmpfs.some((entry) => entry.split(":")[0] === "/tmp")).toBe(true);
  });

  it("keeps the data dir on a named volume", () => {
    const mount = (mlsdm?.volumes ?? []).find((v) => v.split(":")[1] === DATA_DIR);
    expect(mount, `a volume at ${DATA_DIR}`).toBeDefined();
    const source = mount?.split(":")[0] ?? "";
    expect(Object.keys(compose.volumes ?? {})).toContain(source);
    expect(mlsdm?.environment?.MLSDM_DATA_DIR ?? DATA_DIR).toBe(DATA_DIR);
  });
});

describe("deploy/compose/docker-compose.yml: a stack MLSDM accepts", () => {
  /** The mlsdm service's environment as the container sees it (the image sets MLSDM_HOST=0.0.0.0). */
  function containerEnv(): Record<string, string> {
    const dockerfile = readFileSync(new URL("../../Dockerfile", import.meta.url), "utf8");
    const host = /MLSDM_HOST=(\S+)/.exec(dockerfile)?.[1] ?? "";
    const env: Record<string, string> = { MLSDM_HOST: host };
    for (const [name, value] of Object.entries(mlsdm?.environment ?? {})) {
      // ${VAR:?message} is filled in by the operator: stand in a value for it.
      env[name] = value.startsWith("${") ? "operator-supplied-admin-key-0123456789" : value;
    }
    return env;
  }

  it("passes the server's start-up checks (an identity source on 0.0.0.0) and shares limits through Redis", () => {
    const env = containerEnv();
    expect(env.MLSDM_HOST).toBe("0.0.0.0");
    const { config } = loadConfig({ env });
    expect(checkStartup(startupFacts(config)).ok).toBe(true);
    expect(config.limits.rateLimitBackend).toBe("redis");
    expect(new URL(config.redis.url).hostname).toBe("redis");
    expect(compose.services.redis).toBeDefined();
  });

  it("publishes every port on loopback only", () => {
    const ports = Object.values(compose.services).flatMap(
      (service) => (service as { ports?: string[] }).ports ?? [],
    );
    expect(ports.length).toBeGreaterThan(0);
    for (const port of ports) expect(port, port).toMatch(/^127\.0\.0\.1:/);
  });
});
