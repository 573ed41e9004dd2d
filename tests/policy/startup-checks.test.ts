/**
 * The start-up matrix (BASE-SEC-g and the safe defaults) as a pure function: which
 * combinations start, which serve anonymous calls, which are refused with which key and code.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { checkStartup, isLoopback, type StartupFacts } from "../../src/policy/startup-checks.js";
import { identitySources, startupFacts } from "../../src/policy/startup-facts.js";

const base: StartupFacts = {
  host: "127.0.0.1",
  identitySources: [],
  tlsEnabled: false,
  secureMode: false,
  providerBackends: { primary: "local_stub", secondary: "none" },
  authDisabled: false,
};

const secure: StartupFacts = {
  ...base,
  host: "0.0.0.0",
  identitySources: ["api_key"],
  tlsEnabled: true,
  secureMode: true,
  providerBackends: { primary: "openai", secondary: "none" },
};

type Expect =
  | { start: true; anonymous: boolean; warning?: string }
  | { start: false; code: "E801" | "E804"; key: string };

const matrix: [string, Partial<StartupFacts>, Expect][] = [
  ["default: loopback, no identity source", {}, { start: true, anonymous: true, warning: "auth_anonymous" }],
  ["localhost counts as loopback", { host: "localhost" }, { start: true, anonymous: true }],
  ["::1 counts as loopback", { host: "::1" }, { start: true, anonymous: true }],
  [
    "loopback with API keys: no anonymous",
    { identitySources: ["api_key"] },
    { start: true, anonymous: false },
  ],
  [
    "0.0.0.0 without identity source is refused",
    { host: "0.0.0.0" },
    { start: false, code: "E801", key: "server.host" },
  ],
  [
    "a LAN address without identity source is refused",
    { host: "10.1.2.3" },
    { start: false, code: "E801", key: "server.host" },
  ],
  [
    "0.0.0.0 with auth.disabled starts anonymous, with a warning",
    { host: "0.0.0.0", authDisabled: true },
    { start: true, anonymous: true, warning: "auth_disabled" },
  ],
  [
    "0.0.0.0 with API keys",
    { host: "0.0.0.0", identitySources: ["api_key"] },
    { start: true, anonymous: false },
  ],
  [
    "0.0.0.0 with OIDC only",
    { host: "0.0.0.0", identitySources: ["jwt"] },
    { start: true, anonymous: false },
  ],
  [
    "auth.disabled with keys still serves anonymous (and says so)",
    { identitySources: ["api_key"], authDisabled: true },
    { start: true, anonymous: true, warning: "auth_disabled" },
  ],
];

const secureMatrix: [string, Partial<StartupFacts>, Expect][] = [
  ["secure mode, all requirements met", {}, { start: true, anonymous: false }],
  [
    "secure mode on loopback without TLS",
    { host: "127.0.0.1", tlsEnabled: false },
    { start: true, anonymous: false },
  ],
  [
    "secure mode without TLS off loopback",
    { tlsEnabled: false },
    { start: false, code: "E804", key: "server.host" },
  ],
  [
    "secure mode without identity source",
    { identitySources: [] },
    { start: false, code: "E804", key: "secureMode" },
  ],
  [
    "secure mode without identity source, even on loopback",
    { identitySources: [], host: "127.0.0.1" },
    { start: false, code: "E804", key: "secureMode" },
  ],
  [
    "secure mode with auth.disabled",
    { authDisabled: true },
    { start: false, code: "E804", key: "auth.disabled" },
  ],
  [
    "secure mode with the stub as primary",
    { providerBackends: { primary: "local_stub", secondary: "none" } },
    { start: false, code: "E804", key: "llm.primary.backend" },
  ],
  [
    "secure mode with the stub as secondary",
    { providerBackends: { primary: "anthropic", secondary: "local_stub" } },
    { start: false, code: "E804", key: "llm.secondary.backend" },
  ],
];

function verify(facts: StartupFacts, expected: Expect): void {
  const verdict = checkStartup(facts);
  if (!expected.start) {
    expect(verdict.ok).toBe(false);
    if (verdict.ok) return;
    expect(verdict.error.code).toBe(expected.code);
    expect(verdict.error.key).toBe(expected.key);
    expect(verdict.error.message).toMatch(new RegExp(`^${expected.code} CONFIG_(INVALID|INSECURE): `));
    expect(verdict.error.message).toContain(`${expected.key} (MLSDM_`);
    expect(verdict.error.message.split("\n")).toHaveLength(1);
    return;
  }
  expect(verdict.ok, verdict.ok ? "" : verdict.error.message).toBe(true);
  if (!verdict.ok) return;
  expect(verdict.anonymous).toBe(expected.anonymous);
  if (expected.warning) expect(verdict.warnings.map((w) => w.event)).toContain(expected.warning);
  if (!expected.anonymous) expect(verdict.warnings).toEqual([]);
}

describe("checkStartup without secure mode", () => {
  it.each(matrix)("%s", (_name, facts, expected) => {
    verify({ ...base, ...facts }, expected);
  });

  it("the refusal off loopback tells how to fix it", () => {
    const verdict = checkStartup({ ...base, host: "0.0.0.0" });
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) {
      expect(verdict.error.message).toContain("MLSDM_ADMIN_API_KEY");
      expect(verdict.error.message).toContain("MLSDM_AUTH_DISABLED=true");
    }
  });
});

describe("checkStartup in secure mode", () => {
  it.each(secureMatrix)("%s", (_name, facts, expected) => {
    verify({ ...secure, ...facts }, expected);
  });
});

describe("isLoopback", () => {
  it.each([
    ["127.0.0.1", true],
    ["127.1.2.3", true],
    ["localhost", true],
    ["::1", true],
    ["[::1]", true],
    ["::ffff:127.0.0.1", true],
    ["0.0.0.0", false],
    ["::", false],
    ["10.0.0.1", false],
    ["127.example.com", false],
    ["example.com", false],
  ])("%s → %s", (host, expected) => {
    expect(isLoopback(host)).toBe(expected);
  });
});

describe("startupFacts from the configuration", () => {
  const facts = (env: Record<string, string>) => startupFacts(loadConfig({ env }).config);

  it("counts API keys from the environment and the keys file as an identity source", () => {
    expect(identitySources(loadConfig({ env: {} }).config)).toEqual([]);
    const envs: Record<string, string>[] = [
      { MLSDM_ADMIN_API_KEY: "admin-key-0123456789" },
      { MLSDM_API_KEY: "write-key-0123456789" },
      { MLSDM_READ_API_KEY: "read-key-0123456789" },
      { MLSDM_API_KEYS_FILE: "/run/secrets/keys.yaml" },
    ];
    for (const env of envs) {
      expect(facts(env).identitySources).toEqual(["api_key"]);
    }
  });

  it("reads host, secure mode, auth.disabled and the provider backends", () => {
    expect(
      facts({
        MLSDM_HOST: "0.0.0.0",
        MLSDM_SECURE_MODE: "true",
        MLSDM_AUTH_DISABLED: "true",
        MLSDM_LLM_PRIMARY_BACKEND: "openai",
        MLSDM_LLM_PRIMARY_BASE_URL: "http://127.0.0.1:9/v1",
      }),
    ).toEqual({
      host: "0.0.0.0",
      identitySources: [],
      tlsEnabled: false,
      secureMode: true,
      providerBackends: { primary: "openai", secondary: "none" },
      authDisabled: true,
    });
  });

  it("the container image's environment without a key refuses to start (no anonymous admin on 0.0.0.0)", () => {
    const dockerfile = readFileSync(new URL("../../Dockerfile", import.meta.url), "utf8");
    const host = /MLSDM_HOST=(\S+)/.exec(dockerfile)?.[1];
    expect(host).toBe("0.0.0.0");
    const verdict = checkStartup(facts({ MLSDM_HOST: host ?? "" }));
    expect(verdict.ok).toBe(false);
    expect(
      checkStartup(facts({ MLSDM_HOST: host ?? "", MLSDM_ADMIN_API_KEY: "admin-0123456789abcdef" })),
    ).toMatchObject({
      ok: true,
      anonymous: false,
    });
  });
});
