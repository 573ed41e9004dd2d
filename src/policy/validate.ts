/**
 * Request validation driven by the contract: the `(mlsdm.v1.rules)` FieldRules on each field
 * of a request message (docs/adr/0004-contract-options.md). Rules are read from the generated
 * descriptors once per message type and compiled into a small list of checks, so validation
 * on the request path costs a loop over the fields with rules.
 *
 * All violations are collected and sent as google.rpc.BadRequest; the error's reason comes
 * from the first one (E101 dimension, E105 non-finite, E102 range, E103/E104 prompt, E100).
 */
import { getOption, hasOption, type DescField, type DescMessage, type DescMethod } from "@bufbuild/protobuf";
import { rules as rulesOption, type FieldRules } from "../gen/mlsdm/v1/options_pb.js";
import { MlsdmError, type FieldViolation } from "../telemetry/errors/index.js";

/** Looks up a numeric configuration value by dotted key (e.g. "core.dimension"). */
export type ConfigValue = (key: string) => number | undefined;

type Reason =
  | "INVALID_VECTOR_DIMENSION"
  | "NON_FINITE_VALUE"
  | "VALUE_OUT_OF_RANGE"
  | "PROMPT_EMPTY"
  | "PROMPT_TOO_LONG"
  | "VALIDATION_FAILED";

interface Violation extends FieldViolation {
  readonly reason: Reason;
}

type Check = (message: Record<string, unknown>, out: Violation[], prefix: string) => void;

/** The value of `field` in `message`, looking inside its oneof when it belongs to one. */
function fieldValue(message: Record<string, unknown>, field: DescField): unknown {
  if (!field.oneof) return message[field.localName];
  const group = message[field.oneof.localName] as { case?: string; value?: unknown } | undefined;
  return group?.case === field.localName ? group.value : undefined;
}

const MAX_REPORTED = 20;

function rangeText(rules: FieldRules): string {
  const low = rules.min === undefined ? "" : `≥ ${rules.min}`;
  const high = rules.max === undefined ? "" : `≤ ${rules.max}`;
  return [low, high].filter(Boolean).join(" and ");
}

/** True when `value` breaks no numeric rule (the hot path: no allocation). */
function numberOk(value: number, finite: boolean, min: number | undefined, max: number | undefined): boolean {
  if (finite && !Number.isFinite(value)) return false;
  return !((min !== undefined && value < min) || (max !== undefined && value > max));
}

function checkNumber(value: number, rules: FieldRules, field: string, out: Violation[]): void {
  if (rules.finite && !Number.isFinite(value)) {
    out.push({ field, reason: "NON_FINITE_VALUE", description: `must be a finite number, got ${value}` });
    return;
  }
  if ((rules.min !== undefined && value < rules.min) || (rules.max !== undefined && value > rules.max)) {
    out.push({
      field,
      reason: "VALUE_OUT_OF_RANGE",
      description: `must be ${rangeText(rules)}, got ${value}`,
    });
  }
}

/** Length in Unicode code points (what the contract's max_len counts). */
function codePoints(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

function numericRules(rules: FieldRules): boolean {
  return rules.finite || rules.min !== undefined || rules.max !== undefined;
}

function compileField(field: DescField, rules: FieldRules, config: ConfigValue): Check {
  const name = field.name;
  const isPrompt = name === "prompt";
  let expectedLength: number | undefined;
  if (rules.lenEqualsConfig !== "") {
    expectedLength = config(rules.lenEqualsConfig);
    if (expectedLength === undefined) {
      throw new Error(`${field.parent.typeName}.${name}: unknown configuration key ${rules.lenEqualsConfig}`);
    }
  }
  if (field.fieldKind === "list") {
    const checkItems = field.listKind === "scalar" && numericRules(rules);
    const { finite, min, max } = rules;
    return (message, out, prefix) => {
      const list = fieldValue(message, field) as ArrayLike<unknown>;
      const path = prefix + name;
      if (expectedLength !== undefined && list.length !== expectedLength) {
        out.push({
          field: path,
          reason: "INVALID_VECTOR_DIMENSION",
          description: `must have exactly ${expectedLength} values (${rules.lenEqualsConfig}), got ${list.length}`,
        });
      }
      if (rules.minLen !== undefined && list.length < rules.minLen) {
        out.push({
          field: path,
          reason: "VALIDATION_FAILED",
          description: `needs at least ${rules.minLen} items`,
        });
      }
      if (rules.maxLen !== undefined && list.length > rules.maxLen) {
        out.push({
          field: path,
          reason: "VALIDATION_FAILED",
          description: `allows at most ${rules.maxLen} items`,
        });
      }
      if (!checkItems) return;
      for (let i = 0; i < list.length && out.length <= MAX_REPORTED; i++) {
        const value = list[i];
        // The element's path is only built for a violation (a vector has hundreds of values).
        if (typeof value === "number" && !numberOk(value, finite, min, max))
          checkNumber(value, rules, `${path}[${i}]`, out);
      }
    };
  }
  if (field.fieldKind === "scalar" || field.fieldKind === "enum") {
    return (message, out, prefix) => {
      const value = fieldValue(message, field);
      if (value === undefined) return; // an unset optional field
      const path = prefix + name;
      if (typeof value === "number") {
        checkNumber(value, rules, path, out);
        return;
      }
      if (typeof value !== "string") return;
      if (rules.notBlank && value.trim() === "") {
        out.push({
          field: path,
          reason: isPrompt ? "PROMPT_EMPTY" : "VALIDATION_FAILED",
          description: "must not be blank",
        });
      }
      const length = rules.minLen !== undefined || rules.maxLen !== undefined ? codePoints(value) : 0;
      if (rules.minLen !== undefined && length < rules.minLen) {
        out.push({
          field: path,
          reason: "VALIDATION_FAILED",
          description: `needs at least ${rules.minLen} characters`,
        });
      }
      if (rules.maxLen !== undefined && length > rules.maxLen) {
        out.push({
          field: path,
          reason: isPrompt ? "PROMPT_TOO_LONG" : "VALIDATION_FAILED",
          description: `allows at most ${rules.maxLen} characters, got ${length}`,
        });
      }
    };
  }
  return () => undefined;
}

/** Builds the validator; `config` resolves `len_equals_config` keys. */
export function createRequestValidator(config: ConfigValue): (method: DescMethod, request: unknown) => void {
  const compiled = new Map<DescMessage, Check[]>();

  function compile(desc: DescMessage): Check[] {
    const cached = compiled.get(desc);
    if (cached) return cached;
    const checks: Check[] = [];
    compiled.set(desc, checks); // before recursing: guards against recursive types
    for (const field of desc.fields) {
      if (hasOption(field, rulesOption))
        checks.push(compileField(field, getOption(field, rulesOption), config));
      if (field.fieldKind === "message") {
        const nested = compile(field.message);
        if (nested.length > 0) {
          checks.push((message, out, prefix) => {
            const child = fieldValue(message, field) as Record<string, unknown> | undefined;
            if (child) for (const check of nested) check(child, out, `${prefix}${field.name}.`);
          });
        }
      }
    }
    return checks;
  }

  return (method, request) => {
    const checks = compile(method.input);
    if (checks.length === 0) return;
    const out: Violation[] = [];
    for (const check of checks) check(request as Record<string, unknown>, out, "");
    const first = out[0];
    if (!first) return;
    const shown = out.slice(0, MAX_REPORTED);
    const more = out.length - shown.length;
    throw new MlsdmError(first.reason, {
      detail: `${first.field} ${first.description}${out.length > 1 ? ` (and ${out.length - 1} more)` : ""}${more > 0 ? `; ${more} not listed` : ""}`,
      fieldViolations: shown,
    });
  };
}

/** Every request field that carries rules (for tests that enumerate the contract). */
export function fieldsWithRules(desc: DescMessage): DescField[] {
  return desc.fields.filter((field) => hasOption(field, rulesOption));
}
