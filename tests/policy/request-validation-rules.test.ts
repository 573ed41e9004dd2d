/**
 * The contract-driven validator (src/policy/validate.ts) on rule placements the contract does
 * not use yet, on a descriptor built here with real `(mlsdm.v1.rules)` options: list length
 * bounds, string length in code points, rules on oneof members, rules inside nested messages,
 * a rule on a message field (ignored), an unknown `len_equals_config` key, and the cap on the
 * violations listed. request-validation.test.ts covers the contract's own rules.
 */
import { create, createFileRegistry, setExtension, type DescMethod } from "@bufbuild/protobuf";
import {
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  FieldOptionsSchema,
  FileDescriptorProtoSchema,
  type FieldOptions,
} from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { file_mlsdm_v1_options, FieldRulesSchema, rules } from "../../src/gen/mlsdm/v1/options_pb.js";
import { createRequestValidator } from "../../src/policy/validate.js";
import { MlsdmError } from "../../src/telemetry/errors/index.js";

function withRules(init: Parameters<typeof create<typeof FieldRulesSchema>>[1]): FieldOptions {
  const options = create(FieldOptionsSchema);
  setExtension(options, rules, create(FieldRulesSchema, init));
  return options;
}
const field = (name: string, number: number, type: Type, extra: Record<string, unknown> = {}) => ({
  name,
  jsonName: name,
  number,
  type,
  label: Label.OPTIONAL,
  ...extra,
});

const probeFile = create(FileDescriptorProtoSchema, {
  name: "test/v1/probe.proto",
  package: "test.v1",
  syntax: "proto3",
  dependency: ["mlsdm/v1/options.proto"],
  messageType: [
    {
      name: "Probe",
      field: [
        field("items", 1, Type.INT32, {
          label: Label.REPEATED,
          options: withRules({ minLen: 2, maxLen: 3, min: 0 }),
        }),
        field("name", 2, Type.STRING, { options: withRules({ minLen: 2, maxLen: 5 }) }),
        field("text", 3, Type.STRING, { oneofIndex: 0, options: withRules({ notBlank: true }) }),
        field("ratio", 4, Type.DOUBLE, { oneofIndex: 0, options: withRules({ min: 0, max: 1 }) }),
        field("child", 5, Type.MESSAGE, { typeName: ".test.v1.Child" }),
        field("ruled_child", 6, Type.MESSAGE, {
          typeName: ".test.v1.Plain",
          options: withRules({ minLen: 1 }),
        }),
        field("values", 7, Type.DOUBLE, { label: Label.REPEATED, options: withRules({ finite: true }) }),
      ],
      oneofDecl: [{ name: "choice" }],
    },
    {
      name: "Child",
      field: [field("score", 1, Type.DOUBLE, { options: withRules({ finite: true, max: 10 }) })],
    },
    { name: "Plain", field: [field("note", 1, Type.STRING)] },
    {
      name: "Sized",
      field: [
        field("vector", 1, Type.FLOAT, {
          label: Label.REPEATED,
          options: withRules({ lenEqualsConfig: "no.such.key" }),
        }),
      ],
    },
  ],
  service: [
    {
      name: "ProbeService",
      method: [
        { name: "Probe", inputType: ".test.v1.Probe", outputType: ".test.v1.Plain" },
        { name: "Plain", inputType: ".test.v1.Plain", outputType: ".test.v1.Plain" },
        { name: "Sized", inputType: ".test.v1.Sized", outputType: ".test.v1.Plain" },
      ],
    },
  ],
});
const registry = createFileRegistry(probeFile, (name) =>
  name === "mlsdm/v1/options.proto" ? file_mlsdm_v1_options : undefined,
);
const service = registry.getService("test.v1.ProbeService");
if (!service) throw new Error("the probe service did not load");
const methodNamed = (name: string): DescMethod => {
  const found = service.methods.find((m) => m.name === name);
  if (!found) throw new Error(name);
  return found;
};
const probe = methodNamed("Probe");
const validate = createRequestValidator(() => undefined);

function violations(init: Record<string, unknown>): { error: MlsdmError; fields: [string, string][] } {
  try {
    validate(probe, create(probe.input, init as never));
  } catch (error) {
    if (!(error instanceof MlsdmError)) throw error;
    return { error, fields: error.fieldViolations.map((v) => [v.field, v.description]) };
  }
  throw new Error("expected a validation error");
}
const valid = { items: [1, 2], name: "ok" };

describe("validation rules outside the contract's own placements", () => {
  it("accepts a request within every rule", () => {
    expect(() => {
      validate(probe, create(probe.input, valid as never));
    }).not.toThrow();
    expect(() => {
      validate(probe, create(probe.input, { ...valid, choice: { case: "ratio", value: 0.5 } }));
    }).not.toThrow();
  });

  it("bounds the item count of a list and checks each item", () => {
    expect(violations({ ...valid, items: [1] }).fields).toEqual([["items", "needs at least 2 items"]]);
    expect(violations({ ...valid, items: [1, 2, 3, 4] }).fields).toEqual([
      ["items", "allows at most 3 items"],
    ]);
    expect(violations({ ...valid, items: [1, -2] }).fields).toEqual([["items[1]", "must be ≥ 0, got -2"]]);
  });

  it("counts a string's length in code points, not UTF-16 units", () => {
    expect(violations({ ...valid, name: "x" }).fields).toEqual([["name", "needs at least 2 characters"]]);
    // Five emoji are ten UTF-16 units but five code points: within max_len 5.
    expect(() => {
      validate(probe, create(probe.input, { ...valid, name: "🌊🌊🌊🌊🌊" }));
    }).not.toThrow();
    expect(violations({ ...valid, name: "🌊🌊🌊🌊🌊🌊" }).fields).toEqual([
      ["name", "allows at most 5 characters, got 6"],
    ]);
  });

  it("checks the set member of a oneof only", () => {
    expect(violations({ ...valid, choice: { case: "text", value: "  " } }).fields).toEqual([
      ["text", "must not be blank"],
    ]);
    expect(violations({ ...valid, choice: { case: "ratio", value: 2 } }).fields).toEqual([
      ["ratio", "must be ≥ 0 and ≤ 1, got 2"],
    ]);
    expect(violations({ ...valid, choice: { case: "ratio", value: 2 } }).error.reason).toBe(
      "VALUE_OUT_OF_RANGE",
    );
  });

  it("checks rules inside a nested message with a dotted path, when the message is set", () => {
    expect(violations({ ...valid, child: { score: 11 } }).fields).toEqual([
      ["child.score", "must be ≤ 10, got 11"],
    ]);
    expect(violations({ ...valid, child: { score: Number.NaN } }).error.reason).toBe("NON_FINITE_VALUE");
    expect(() => {
      validate(probe, create(probe.input, { ...valid, child: { score: 3 } }));
    }).not.toThrow();
    // A rule on a message-typed field has nothing to check.
    expect(() => {
      validate(probe, create(probe.input, { ...valid, ruledChild: {} }));
    }).not.toThrow();
    // A message without rules anywhere is not checked at all.
    const plain = methodNamed("Plain");
    expect(() => {
      validate(plain, create(plain.input, { note: "" }));
    }).not.toThrow();
  });

  it("reports every violation, lists at most 20, and names the first in the message", () => {
    const { error } = violations({
      items: [-1],
      name: "x",
      values: Array.from({ length: 30 }, () => Number.NaN),
    });
    expect(error.reason).toBe("VALIDATION_FAILED");
    expect(error.fieldViolations).toHaveLength(20);
    expect(error.fieldViolations[0]?.field).toBe("items");
    expect(error.message).toMatch(/items needs at least 2 items \(and \d+ more\); \d+ not listed/);
  });

  it("refuses, on first use, a len_equals_config key the configuration does not have", () => {
    const sized = methodNamed("Sized");
    expect(() => {
      validate(sized, create(sized.input, { vector: [1] }));
    }).toThrow("test.v1.Sized.vector: unknown configuration key no.such.key");
    const configured = createRequestValidator((key) => (key === "no.such.key" ? 2 : undefined));
    expect(() => {
      configured(sized, create(sized.input, { vector: [1, 2] }));
    }).not.toThrow();
    expect(() => {
      configured(sized, create(sized.input, { vector: [1] }));
    }).toThrow(MlsdmError);
  });
});
