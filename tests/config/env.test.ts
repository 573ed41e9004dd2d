/**
 * Strict, typed parsing of environment variables, and the warning for unknown MLSDM_ names.
 */
import { describe, expect, it } from "vitest";
import { configEntries, loadConfig } from "../../src/config/index.js";
import { parseEnvValue, suggest, unknownEnvWarnings } from "../../src/config/env.js";
import { configErrorOf } from "./support.js";

const entries = configEntries();
function entry(key: string) {
  const found = entries.find((candidate) => candidate.key === key);
  if (found === undefined) throw new Error(`no entry ${key}`);
  return found;
}

describe("boolean variables", () => {
  it.each([
    ["true", true],
    ["TRUE", true],
    ["True", true],
    ["1", true],
    ["yes", true],
    ["YES", true],
    ["false", false],
    ["FALSE", false],
    ["0", false],
    ["no", false],
    ["No", false],
  ])("%s means %s", (raw, expected) => {
    expect(parseEnvValue(entry("server.reflection"), raw)).toBe(expected);
    expect(loadConfig({ env: { MLSDM_REFLECTION: raw } }).config.server.reflection).toBe(expected);
  });

  it.each(["", "on", "off", "y", "n", "2", "tru", " true", "true "])("refuses %j", (raw) => {
    const error = configErrorOf(() => loadConfig({ env: { MLSDM_SECURE_MODE: raw } }));
    expect(error.code).toBe("E801");
    expect(error.key).toBe("secureMode");
    expect(error.source).toBe("MLSDM_SECURE_MODE");
    expect(error.value).toBe(raw);
    expect(error.allowed).toMatch(/^true or false/);
  });
});

describe("integer variables", () => {
  it.each([
    ["0", 0],
    ["8080", 8080],
    ["65535", 65535],
    ["+7", 7],
  ])("%s is %d", (raw, expected) => {
    expect(parseEnvValue(entry("server.httpPort"), raw)).toBe(expected);
  });

  it.each(["", "abc", "12abc", "1.5", "1e3", "0x10", " 80", "80 ", "-", "NaN", "Infinity"])(
    "refuses %j",
    (raw) => {
      const error = configErrorOf(() => loadConfig({ env: { MLSDM_HTTP_PORT: raw } }));
      expect(error.message).toBe(
        `E801 CONFIG_INVALID: server.httpPort (MLSDM_HTTP_PORT) = ${JSON.stringify(raw)}: expected an integer from 0 to 65535`,
      );
    },
  );
});

describe("enum and string variables", () => {
  it("passes enum words through exactly, leaving membership to the schema", () => {
    expect(loadConfig({ env: { MLSDM_LOG_LEVEL: "debug" } }).config.log.level).toBe("debug");
    expect(configErrorOf(() => loadConfig({ env: { MLSDM_LOG_LEVEL: "DEBUG" } })).key).toBe("log.level");
    expect(configErrorOf(() => loadConfig({ env: { MLSDM_LOG_LEVEL: " info" } })).key).toBe("log.level");
  });

  it("keeps strings as given", () => {
    expect(loadConfig({ env: { MLSDM_DATA_DIR: "/var/lib/mlsdm data" } }).config.dataDir).toBe(
      "/var/lib/mlsdm data",
    );
  });
});

describe("unknown MLSDM_ variables", () => {
  it("warns once per unknown name, suggesting the closest known one", () => {
    const warnings = unknownEnvWarnings(entries, {
      MLSDM_GRPC_PROT: "1",
      MLSDM_SOMETHING_ELSE: "x",
      MLSDM_CONFIG: undefined,
      MLSDM_HOST: "0.0.0.0",
      PATH: "/bin",
      OTHER_PREFIX_GRPC_PORT: "1",
    });
    expect(warnings).toEqual([
      "MLSDM_GRPC_PROT is not a known setting and was ignored (did you mean MLSDM_GRPC_PORT?)",
      "MLSDM_SOMETHING_ELSE is not a known setting and was ignored",
    ]);
  });

  it("does not warn about MLSDM_CONFIG or known keys", () => {
    expect(unknownEnvWarnings(entries, { MLSDM_CONFIG: "x.yaml", MLSDM_LOG_LEVEL: "info" })).toEqual([]);
  });

  it("reaches the loader's warnings without failing the load", () => {
    const loaded = loadConfig({ env: { MLSDM_LOG_LEVL: "debug" } });
    expect(loaded.config.log.level).toBe("info");
    expect(loaded.warnings).toEqual([
      "MLSDM_LOG_LEVL is not a known setting and was ignored (did you mean MLSDM_LOG_LEVEL?)",
    ]);
  });

  it("suggests nothing for names far from every key", () => {
    expect(suggest("MLSDM_TOTALLY_DIFFERENT", ["MLSDM_HOST", "MLSDM_GRPC_PORT"])).toBeUndefined();
  });
});
