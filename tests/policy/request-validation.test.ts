/**
 * The contract-driven validator: one negative case per rule class, reasons and E-codes,
 * BadRequest field paths, and every rule in the contract compiles.
 */
import { create, type DescMethod } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AdminService } from "../../src/gen/mlsdm/v1/admin_pb.js";
import { EngineService } from "../../src/gen/mlsdm/v1/engine_pb.js";
import { createRequestValidator, fieldsWithRules } from "../../src/policy/validate.js";
import { MlsdmError } from "../../src/telemetry/errors/index.js";

const validate = createRequestValidator((key) => (key === "core.dimension" ? 4 : undefined));
const method = (service: typeof EngineService | typeof AdminService, name: string): DescMethod => {
  const found = service.methods.find((m) => m.name === name);
  if (!found) throw new Error(name);
  return found;
};
const processEvent = method(EngineService, "ProcessEvent");

function failure(m: DescMethod, init: object): MlsdmError {
  try {
    validate(m, create(m.input, init as never));
  } catch (error) {
    if (error instanceof MlsdmError) return error;
    throw error;
  }
  throw new Error("expected a validation error");
}

describe("request validation from the contract", () => {
  it.each([
    ["too short", { vector: [1, 2, 3], moralValue: 0.5 }, "INVALID_VECTOR_DIMENSION", "E101", "vector"],
    ["too long", { vector: [1, 2, 3, 4, 5], moralValue: 0.5 }, "INVALID_VECTOR_DIMENSION", "E101", "vector"],
    ["empty", { vector: [], moralValue: 0.5 }, "INVALID_VECTOR_DIMENSION", "E101", "vector"],
    ["NaN", { vector: [1, Number.NaN, 3, 4], moralValue: 0.5 }, "NON_FINITE_VALUE", "E105", "vector[1]"],
    ["-Infinity", { vector: [1, 2, 3, -Infinity], moralValue: 0.5 }, "NON_FINITE_VALUE", "E105", "vector[3]"],
    ["moral < 0", { vector: [1, 2, 3, 4], moralValue: -0.01 }, "VALUE_OUT_OF_RANGE", "E102", "moral_value"],
    ["moral > 1", { vector: [1, 2, 3, 4], moralValue: 1.01 }, "VALUE_OUT_OF_RANGE", "E102", "moral_value"],
    [
      "moral NaN",
      { vector: [1, 2, 3, 4], moralValue: Number.NaN },
      "NON_FINITE_VALUE",
      "E105",
      "moral_value",
    ],
  ])("ProcessEvent %s → %s", (_name, init, reason, code, field) => {
    const error = failure(processEvent, init);
    expect(error.reason).toBe(reason);
    expect(error.entry.code).toBe(code);
    expect(error.fieldViolations.map((v) => v.field)).toContain(field);
    expect(error.toConnectError().code).toBe(3); // INVALID_ARGUMENT
  });

  it.each([
    ["Generate", { prompt: "   " }, "PROMPT_EMPTY", "prompt"],
    ["Generate", { prompt: "x".repeat(10_001) }, "PROMPT_TOO_LONG", "prompt"],
    ["Generate", { prompt: "hi", maxTokens: 0 }, "VALUE_OUT_OF_RANGE", "max_tokens"],
    ["Generate", { prompt: "hi", maxTokens: 4097 }, "VALUE_OUT_OF_RANGE", "max_tokens"],
    ["Generate", { prompt: "hi", contextTopK: 101 }, "VALUE_OUT_OF_RANGE", "context_top_k"],
    ["RetrieveContext", { queryVector: [1, 2], topK: 5 }, "INVALID_VECTOR_DIMENSION", "query_vector"],
    ["RetrieveContext", { queryVector: [1, 2, 3, 4], topK: 101 }, "VALUE_OUT_OF_RANGE", "top_k"],
  ])("%s %j → %s", (name, init, reason, field) => {
    const error = failure(method(EngineService, name), init);
    expect(error.reason).toBe(reason);
    expect(error.fieldViolations[0]?.field).toBe(field);
  });

  it.each([
    ["SetMoralThreshold", { threshold: 0.29, reason: "x" }, "VALUE_OUT_OF_RANGE", "threshold"],
    ["SetMoralThreshold", { threshold: 0.91, reason: "x" }, "VALUE_OUT_OF_RANGE", "threshold"],
    ["ResetEmergency", { reason: " " }, "VALIDATION_FAILED", "reason"],
    ["TriggerEmergencyShutdown", { reason: "r".repeat(501) }, "VALIDATION_FAILED", "reason"],
    ["CreateApiKey", { owner: "ops", roles: [] }, "VALIDATION_FAILED", "roles"],
  ])("%s %j → %s", (name, init, reason, field) => {
    const error = failure(method(AdminService, name), init);
    expect(error.reason).toBe(reason);
    expect(error.fieldViolations[0]?.field).toBe(field);
  });

  it("collects every violation but reports the first as the reason", () => {
    const error = failure(processEvent, { vector: [Number.NaN, 1, 2, Infinity], moralValue: 2 });
    expect(error.reason).toBe("NON_FINITE_VALUE");
    expect(error.fieldViolations.map((v) => v.field)).toEqual(["vector[0]", "vector[3]", "moral_value"]);
  });

  it("property: finite vectors of the right length with moral in [0,1] pass; a non-finite value fails naming its index", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: 4, maxLength: 4 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 3 }),
        fc.constantFrom(Number.NaN, Infinity, -Infinity),
        (vector, moralValue, index, bad) => {
          validate(processEvent, create(processEvent.input, { vector, moralValue }));
          const broken = [...vector];
          broken[index] = bad;
          const error = failure(processEvent, { vector: broken, moralValue });
          return error.fieldViolations[0]?.field === `vector[${index}]`;
        },
      ),
    );
  });

  it("every rule in the contract compiles (no unknown configuration keys)", () => {
    const strict = createRequestValidator((key) => (key === "core.dimension" ? 384 : undefined));
    let withRules = 0;
    for (const service of [EngineService, AdminService]) {
      for (const m of service.methods) {
        withRules += fieldsWithRules(m.input).length;
        expect(() => {
          try {
            strict(m, create(m.input));
          } catch (error) {
            if (!(error instanceof MlsdmError)) throw error;
          }
        }).not.toThrow();
      }
    }
    expect(withRules).toBeGreaterThan(10);
  });
});
