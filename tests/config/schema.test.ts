/**
 * The schema itself: every leaf is fully declared (variable, description, default), defaults
 * are what the brief and the design promise, and the derived "allowed" texts are right.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { configEntries, configSchema, describeAllowed, type Config } from "../../src/config/index.js";
import { key, text } from "../../src/config/meta.js";

describe("configSchema defaults", () => {
  it("parses {} to every documented default", () => {
    const expected: Config = {
      server: {
        host: "127.0.0.1",
        grpcPort: 50051,
        httpPort: 8080,
        drainTimeoutMs: 10_000,
        shutdownDelayMs: 0,
        reflection: true,
        maxMessageBytes: 1_048_576,
      },
      log: { level: "info", format: "auto" },
      core: { dimension: 384 },
      dataDir: "./.data",
      secureMode: false,
    };
    expect(configSchema.parse({})).toEqual(expected);
  });

  it("fills a partly given section with the other defaults", () => {
    expect(configSchema.parse({ server: { grpcPort: 1 } }).server).toMatchObject({
      grpcPort: 1,
      httpPort: 8080,
    });
  });

  it("rejects unknown keys at every level", () => {
    expect(configSchema.safeParse({ bogus: 1 }).success).toBe(false);
    expect(configSchema.safeParse({ server: { grpcPrt: 1 } }).success).toBe(false);
  });
});

describe("configEntries", () => {
  const entries = configEntries();

  it("lists every leaf with its variable, type, allowed values and default", () => {
    expect(entries.map((entry) => [entry.key, entry.env, entry.type, entry.default])).toEqual([
      ["server.host", "MLSDM_HOST", "string", "127.0.0.1"],
      ["server.grpcPort", "MLSDM_GRPC_PORT", "integer", 50051],
      ["server.httpPort", "MLSDM_HTTP_PORT", "integer", 8080],
      ["server.drainTimeoutMs", "MLSDM_DRAIN_TIMEOUT_MS", "integer", 10000],
      ["server.shutdownDelayMs", "MLSDM_SHUTDOWN_DELAY_MS", "integer", 0],
      ["server.reflection", "MLSDM_REFLECTION", "boolean", true],
      ["server.maxMessageBytes", "MLSDM_MAX_MESSAGE_BYTES", "integer", 1048576],
      ["log.level", "MLSDM_LOG_LEVEL", "enum", "info"],
      ["log.format", "MLSDM_LOG_FORMAT", "enum", "auto"],
      ["core.dimension", "MLSDM_DIMENSION", "integer", 384],
      ["dataDir", "MLSDM_DATA_DIR", "string", "./.data"],
      ["secureMode", "MLSDM_SECURE_MODE", "boolean", false],
    ]);
  });

  it("gives every leaf a unique MLSDM_ variable and a description", () => {
    const envs = entries.map((entry) => entry.env);
    expect(new Set(envs).size).toBe(envs.length);
    for (const entry of entries) {
      expect(entry.env).toMatch(/^MLSDM_[A-Z0-9_]+$/);
      expect(entry.env).not.toBe("MLSDM_CONFIG");
      expect(entry.description.length, entry.key).toBeGreaterThan(10);
    }
  });

  it("keeps every default inside its own rule", () => {
    for (const entry of entries) {
      expect(entry.schema.safeParse(entry.default).success, entry.key).toBe(true);
    }
  });

  it("derives the allowed text from the schema", () => {
    const byKey = new Map(entries.map((entry) => [entry.key, entry.allowed]));
    expect(byKey.get("server.grpcPort")).toBe("an integer from 0 to 65535");
    expect(byKey.get("server.maxMessageBytes")).toBe("an integer from 1024 to 67108864");
    expect(byKey.get("log.level")).toBe("one of: error, warn, info, debug");
    expect(byKey.get("log.format")).toBe("one of: json, pretty, auto");
    expect(byKey.get("server.reflection")).toBe("true or false");
    expect(byKey.get("dataDir")).toBe("a non-empty string");
  });

  it("refuses a schema leaf declared without key(...)", () => {
    const undeclared = z.strictObject({ section: z.strictObject({ knob: z.int().default(1) }).prefault({}) });
    expect(() => configEntries(undeclared)).toThrow(/section\.knob is neither a section nor a leaf/);
  });

  it("walks any schema built with the same helpers", () => {
    const schema = z.strictObject({
      name: key(text("x"), { env: "MLSDM_TEST_NAME", description: "test only" }),
    });
    expect(configEntries(schema).map((entry) => entry.key)).toEqual(["name"]);
  });
});

describe("describeAllowed", () => {
  it("words one-sided and exclusive number bounds", () => {
    expect(describeAllowed(z.number().gt(0).lte(1))).toBe("a number greater than 0 and at most 1");
    expect(describeAllowed(z.int().min(1))).toBe("an integer at least 1");
    expect(describeAllowed(z.int())).toBe("an integer");
    expect(describeAllowed(z.number().min(0).max(1))).toBe("a number from 0 to 1");
    expect(describeAllowed(z.string())).toBe("a string");
  });
});
