/**
 * The prompt PII policy without a network: mask rewrites the request's prompt, block throws
 * E108 with a BadRequest violation naming the types (never the text), allow leaves it, only
 * Generate and GenerateStream are inspected, and each outcome writes a security event.
 */
import { create } from "@bufbuild/protobuf";
import { afterEach, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import {
  EngineService,
  GenerateRequestSchema,
  GenerateStreamRequestSchema,
} from "../../src/gen/mlsdm/v1/engine_pb.js";
import { piiFromConfig } from "../../src/policy/pii-from-config.js";
import { promptPii } from "../../src/policy/prompt-pii.js";
import { MlsdmError } from "../../src/telemetry/errors/index.js";
import { logger } from "../../src/telemetry/logger.js";
import { PiiDetector } from "../../src/telemetry/pii/index.js";
import { policyContext } from "./support/handler-context.js";

type Method = (typeof EngineService.methods)[number];
const method = (name: string): Method => {
  const found = EngineService.methods.find((m) => m.name === name);
  if (!found) throw new Error(name);
  return found;
};

function contextFor(m: Method) {
  return policyContext({
    method: m,
    identity: { id: "key-1", owner: "", roles: ["write"], source: "api_key" },
  });
}

const CARD = "4111 1111 1111 1111";
const policy = promptPii({
  detector: new PiiDetector({ customPatterns: [{ name: "ticket", pattern: "TCK-[0-9]+" }] }),
  actions: { card: "mask", email: "allow", iban: "block", ticket: "block", jwt: "mask" },
});
if (!policy) throw new Error("policy expected");

afterEach(() => {
  vi.restoreAllMocks();
});

function blockedBy(run: () => unknown): MlsdmError {
  try {
    run();
  } catch (error) {
    if (error instanceof MlsdmError) return error;
    throw error;
  }
  throw new Error("expected the policy to block");
}

describe("prompt PII policy", () => {
  it("masks a card in Generate and GenerateStream prompts and logs the counts", () => {
    const warn = vi.spyOn(logger, "warn");
    for (const [name, schema] of [
      ["Generate", GenerateRequestSchema],
      ["GenerateStream", GenerateStreamRequestSchema],
    ] as const) {
      const request = create(schema, { prompt: `pay ${CARD} and ${CARD}, mail a@example.com` });
      void policy(contextFor(method(name)), request);
      expect(request.prompt).toBe("pay [CARD] and [CARD], mail a@example.com");
    }
    expect(warn).toHaveBeenCalledWith("security event", {
      event: "prompt_pii_masked",
      method: "GenerateStream",
      identity_id: "key-1",
      entities: { card: 2 },
    });
    expect(JSON.stringify(warn.mock.calls)).not.toContain("4111");
  });

  it.each([
    ["iban", "send to DE89 3704 0044 0532 0130 00 today", "DE89"],
    ["ticket", "see TCK-12345 for details", "TCK-12345"],
  ])("blocks %s with E108 and a BadRequest on prompt, without the text", (type, prompt, secret) => {
    const warn = vi.spyOn(logger, "warn");
    const request = create(GenerateRequestSchema, { prompt });
    const error = blockedBy(() => policy(contextFor(method("Generate")), request));
    expect(error.entry.code).toBe("E108");
    expect(error.reason).toBe("PROMPT_CONTAINS_PII");
    const wire = error.toConnectError();
    expect(wire.message).not.toContain(secret);
    expect(JSON.stringify(error.fieldViolations)).not.toContain(secret);
    expect(error.fieldViolations[0]).toMatchObject({ field: "prompt", reason: "PROMPT_CONTAINS_PII" });
    expect(error.fieldViolations[0]?.description).toContain(type);
    expect(error.metadata).toEqual({ entities: type });
    expect(warn).toHaveBeenCalledWith(
      "security event",
      expect.objectContaining({ event: "prompt_pii_blocked" }),
    );
    expect(JSON.stringify(warn.mock.calls)).not.toContain(secret);
    expect(request.prompt).toBe(prompt);
  });

  it("blocks when a blocking type appears next to a masked one", () => {
    const error = blockedBy(() =>
      policy(contextFor(method("Generate")), create(GenerateRequestSchema, { prompt: `${CARD} TCK-1` })),
    );
    expect(error.metadata).toEqual({ entities: "ticket" });
  });

  it("leaves allowed types, clean prompts and other methods alone", () => {
    const clean = create(GenerateRequestSchema, { prompt: "mail a@example.com about tides" });
    void policy(contextFor(method("Generate")), clean);
    expect(clean.prompt).toBe("mail a@example.com about tides");
    const other = { prompt: CARD };
    void policy(contextFor(method("GetState")), other);
    expect(other.prompt).toBe(CARD);
  });

  it("is not installed when every type is allowed", () => {
    expect(promptPii({ detector: new PiiDetector(), actions: { card: "allow" } })).toBeUndefined();
  });

  it("builds from configuration: defaults mask secrets, env settings block", () => {
    const defaults = piiFromConfig(loadConfig({ env: {} }).config);
    expect(defaults.policies).toHaveLength(1);
    const request = create(GenerateRequestSchema, { prompt: "key sk-proj-ABCDEFGHIJKLMNOPQRSTUV1234 ok" });
    void defaults.policies[0]?.(contextFor(method("Generate")), request);
    expect(request.prompt).toBe("key [API_KEY] ok");
    const strict = piiFromConfig(
      loadConfig({ env: { MLSDM_PII_PROMPT_EMAIL: "block", MLSDM_PII_CUSTOM_PATTERNS: "emp=EMP-\\d{6}" } })
        .config,
    );
    const [check] = strict.policies;
    expect(
      blockedBy(() => check?.(contextFor(method("Generate")), { prompt: "x a@example.com" })).entry.code,
    ).toBe("E108");
    const custom = { prompt: "id EMP-123456" };
    void check?.(contextFor(method("Generate")), custom);
    expect(custom.prompt).toBe("id [EMP]");
    expect(strict.detector.scrub("EMP-654321")).toBe("[EMP]");
  });
});
