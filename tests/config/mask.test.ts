/**
 * Secret masking, on a test schema that has secrets (the service's schema has none yet), and
 * the guarantee that a bad secret value is never echoed in an error message.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { configEntries, loadConfig, MASK, maskSecrets } from "../../src/config/index.js";
import { invalidValue } from "../../src/config/errors.js";
import { key, secret, text } from "../../src/config/meta.js";

const testSchema = z.strictObject({
  provider: z
    .strictObject({
      apiKey: key(secret(), { env: "MLSDM_TEST_API_KEY", description: "test secret", secret: true }),
      model: key(text("small"), { env: "MLSDM_TEST_MODEL", description: "test model name" }),
    })
    .prefault({}),
  adminToken: key(secret(), { env: "MLSDM_TEST_ADMIN_TOKEN", description: "test secret", secret: true }),
});
const testEntries = configEntries(testSchema);

describe("maskSecrets", () => {
  it("replaces set secrets with *** and leaves everything else", () => {
    const config = testSchema.parse({ provider: { apiKey: "sk-live-123" }, adminToken: "t0ken" });
    const masked = maskSecrets(config, testEntries);
    expect(masked).toEqual({ provider: { apiKey: MASK, model: "small" }, adminToken: MASK });
    expect(JSON.stringify(masked)).not.toContain("sk-live-123");
  });

  it("does not change the original", () => {
    const config = testSchema.parse({ provider: { apiKey: "sk-live-123" } });
    maskSecrets(config, testEntries);
    expect(config.provider.apiKey).toBe("sk-live-123");
  });

  it("leaves unset secrets visibly unset", () => {
    expect(maskSecrets(testSchema.parse({}), testEntries)).toEqual({
      provider: { apiKey: "", model: "small" },
      adminToken: "",
    });
  });

  it("returns an equal copy of the service configuration, which has no secrets yet", () => {
    const { config } = loadConfig({ env: {} });
    const masked = maskSecrets(config);
    expect(masked).toEqual(config);
    expect(masked).not.toBe(config);
    expect(masked.server).not.toBe(config.server);
  });
});

describe("secrets in error messages", () => {
  it("shows *** instead of a bad secret value", () => {
    const error = invalidValue({
      key: "provider.apiKey",
      source: "MLSDM_TEST_API_KEY",
      value: "sk-live-123",
      allowed: "a key starting with sk-",
      secret: true,
    });
    expect(error.message).toBe(
      'E801 CONFIG_INVALID: provider.apiKey (MLSDM_TEST_API_KEY) = "***": expected a key starting with sk-',
    );
    expect(error.value).toBe(MASK);
  });
});
