/**
 * The oidc section (SEC-004): start-up refuses OIDC without an issuer or an audience, the `none`
 * and HS* algorithms, bad URLs and a clock skew above 60 s, each with E801 naming the key.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { configErrorOf } from "./support.js";

const ON = {
  MLSDM_OIDC_ENABLED: "true",
  MLSDM_OIDC_ISSUER: "https://keycloak.example.com/realms/mlsdm",
  MLSDM_OIDC_AUDIENCE: "mlsdm-api",
};
const load = (env: Record<string, string>) => loadConfig({ env, isTty: false });

describe("oidc configuration", () => {
  it("is off by default, and accepts a complete setting", () => {
    expect(load({}).config.oidc.enabled).toBe(false);
    expect(load(ON).config.oidc).toMatchObject({
      enabled: true,
      issuer: ON.MLSDM_OIDC_ISSUER,
      algorithms: "RS256",
      rolesClaim: "roles",
      jwksCacheTtlSeconds: 3600,
      clockSkewSeconds: 30,
    });
    expect(load({ ...ON, MLSDM_OIDC_ALGORITHMS: "RS256, ES256,EdDSA" }).config.oidc.algorithms).toBe(
      "RS256, ES256,EdDSA",
    );
  });

  it("fails start-up with E801 naming the key when enabled without an issuer or an audience", () => {
    const noIssuer = configErrorOf(() => load({ ...ON, MLSDM_OIDC_ISSUER: "" }));
    expect(noIssuer.code).toBe("E801");
    expect(noIssuer.key).toBe("oidc.issuer");
    expect(noIssuer.message).toMatch(
      /^E801 CONFIG_INVALID: oidc\.issuer .*required when oidc\.enabled is true/,
    );
    const noAudience = configErrorOf(() =>
      load({ MLSDM_OIDC_ENABLED: "true", MLSDM_OIDC_ISSUER: ON.MLSDM_OIDC_ISSUER }),
    );
    expect(noAudience.key).toBe("oidc.audience");
    expect(configErrorOf(() => load({ ...ON, MLSDM_OIDC_AUDIENCE: " , " })).key).toBe("oidc.audience");
  });

  it("stops the real entry point with exit code 2 and one E801 line naming oidc.audience", () => {
    const env: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(process.env))
      if (!name.startsWith("MLSDM_")) env[name] = value;
    const run = spawnSync(process.execPath, ["--import", "tsx", "src/main.ts"], {
      cwd: fileURLToPath(new URL("../..", import.meta.url)),
      env: {
        ...env,
        MLSDM_GRPC_PORT: "0",
        MLSDM_HTTP_PORT: "0",
        MLSDM_STATE: "memory",
        ...ON,
        MLSDM_OIDC_AUDIENCE: "",
      },
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr.trim()).toMatch(/^E801 CONFIG_INVALID: oidc\.audience /);
  });

  it("refuses alg none and the HS* algorithms, even with OIDC off", () => {
    for (const algorithms of ["none", "RS256,none", "HS256", "hs512", "RS256,HS384"]) {
      const error = configErrorOf(() => load({ ...ON, MLSDM_OIDC_ALGORITHMS: algorithms }));
      expect(error.key, algorithms).toBe("oidc.algorithms");
      expect(error.source).toBe("MLSDM_OIDC_ALGORITHMS");
      expect(error.message).toContain('"none" and the shared-secret HS* algorithms are refused');
    }
    expect(configErrorOf(() => load({ MLSDM_OIDC_ALGORITHMS: "none" })).key).toBe("oidc.algorithms");
    expect(configErrorOf(() => load({ ...ON, MLSDM_OIDC_ALGORITHMS: "RS1024" })).key).toBe("oidc.algorithms");
  });

  it("refuses a clock skew above 60 s and URLs that are not http(s)", () => {
    expect(configErrorOf(() => load({ ...ON, MLSDM_OIDC_CLOCK_SKEW_SECONDS: "61" })).key).toBe(
      "oidc.clockSkewSeconds",
    );
    expect(load({ ...ON, MLSDM_OIDC_CLOCK_SKEW_SECONDS: "60" }).config.oidc.clockSkewSeconds).toBe(60);
    expect(configErrorOf(() => load({ ...ON, MLSDM_OIDC_ISSUER: "keycloak/realms/x" })).key).toBe(
      "oidc.issuer",
    );
    expect(configErrorOf(() => load({ ...ON, MLSDM_OIDC_JWKS_URI: "file:///etc/jwks.json" })).key).toBe(
      "oidc.jwksUri",
    );
    expect(configErrorOf(() => load({ ...ON, MLSDM_OIDC_JWKS_COOLDOWN_SECONDS: "0" })).key).toBe(
      "oidc.jwksRefreshCooldownSeconds",
    );
  });
});
