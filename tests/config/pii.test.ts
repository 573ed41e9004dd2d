/**
 * The `pii` section: defaults, per-type prompt actions from the environment, custom patterns
 * from the environment string and from a YAML list, and E801 naming the key for a bad entry.
 */
import { describe, expect, it } from "vitest";
import { CONFIG_FILE_ENV, loadConfig } from "../../src/config/index.js";
import { parseCustomPatterns } from "../../src/config/schema-pii.js";
import { configErrorOf, yamlFile } from "./support.js";

describe("pii configuration", () => {
  it("masks credentials and payment data in prompts by default, allows contact data", () => {
    const { pii } = loadConfig({ env: {} }).config;
    expect(pii.scrubIps).toBe(false);
    expect(pii.prompt).toMatchObject({
      card: "mask",
      iban: "mask",
      apiKey: "mask",
      email: "allow",
      ip: "allow",
    });
  });

  it("reads actions and custom patterns from the environment", () => {
    const { pii } = loadConfig({
      env: {
        MLSDM_PII_PROMPT_EMAIL: "block",
        MLSDM_PII_SCRUB_IPS: "true",
        MLSDM_PII_CUSTOM_PATTERNS: "employee_id=EMP-\\d{6};ticket:block=TCK-[0-9]+",
      },
    }).config;
    expect(pii.prompt.email).toBe("block");
    expect(pii.scrubIps).toBe(true);
    expect(parseCustomPatterns(pii.customPatterns)).toEqual([
      { name: "employee_id", pattern: "EMP-\\d{6}", action: "mask" },
      { name: "ticket", pattern: "TCK-[0-9]+", action: "block" },
    ]);
  });

  it("reads custom patterns as a YAML list, semicolons in a pattern included", () => {
    const file = yamlFile(
      [
        "pii:",
        "  customPatterns:",
        "    - name: employee_id",
        "      pattern: 'EMP-\\d{6}'",
        "      action: block",
        "    - name: order",
        "      pattern: 'ORD;[0-9]{4}'",
      ].join("\n"),
    );
    const { pii } = loadConfig({ env: { [CONFIG_FILE_ENV]: file } }).config;
    expect(parseCustomPatterns(pii.customPatterns)).toEqual([
      { name: "employee_id", pattern: "EMP-\\d{6}", action: "block" },
      { name: "order", pattern: "ORD;[0-9]{4}", action: "mask" },
    ]);
  });

  it.each([
    ["ticket=TCK-(", /ticket: Invalid regular expression/],
    ["nonsense", /is not one/],
    ["email=x+", /built-in entity type/],
    ["a=x;a=y", /appears twice/],
    ["ticket:drop=TCK", /is not one/],
  ])("refuses %j with E801 naming pii.customPatterns", (value, why) => {
    const error = configErrorOf(() => loadConfig({ env: { MLSDM_PII_CUSTOM_PATTERNS: value } }));
    expect(error.code).toBe("E801");
    expect(error.key).toBe("pii.customPatterns");
    expect(error.source).toBe("MLSDM_PII_CUSTOM_PATTERNS");
    expect(error.message).toMatch(why);
  });

  it("refuses an unknown prompt action naming the key", () => {
    const error = configErrorOf(() => loadConfig({ env: { MLSDM_PII_PROMPT_CARD: "hide" } }));
    expect(error.key).toBe("pii.prompt.card");
    expect(error.message).toContain("allow, mask, block");
  });

  it("refuses an invalid regex in the YAML list naming the key", () => {
    const file = yamlFile(["pii:", "  customPatterns:", "    - {name: bad, pattern: '[a-'}"].join("\n"));
    const error = configErrorOf(() => loadConfig({ env: { [CONFIG_FILE_ENV]: file } }));
    expect(error.code).toBe("E801");
    expect(error.key).toBe("pii.customPatterns");
  });
});
