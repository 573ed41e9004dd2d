/**
 * The PII and secret detector: runs every entity rule over a text, resolves overlaps by rule
 * priority, and replaces the findings of the selected types with their placeholders. One
 * detector serves the log formatter, span attributes, stored memory texts and the prompt
 * policy, so all four agree on what personal data is.
 *
 * Cost: one linear scan per rule (precompiled, bounded patterns, cheap substring hints), and
 * nothing allocated for a text without findings.
 */
import {
  BUILTIN_RULES,
  PII_ENTITY_TYPES,
  regexRule,
  type EntityRule,
  type PiiEntityType,
} from "./entities.js";

/** An operator-defined entity type: a name (`[a-z][a-z0-9_]*`) and a regular expression source. */
export interface CustomPiiPattern {
  readonly name: string;
  readonly pattern: string;
}

/** How a detector is built. */
export interface PiiDetectorOptions {
  /** Also scrub IPv4/IPv6 addresses in `scrub` (logs, spans, memory); default false. */
  readonly scrubIps?: boolean;
  /** Extra entity types; matched after the credentials and before the built-in personal data. */
  readonly customPatterns?: readonly CustomPiiPattern[];
}

/** The result of `redact`: the rewritten text and how many findings of each replaced type. */
export interface Redaction {
  readonly text: string;
  /** Findings per entity type, for the selected types only; empty when nothing was found. */
  readonly counts: Readonly<Record<string, number>>;
}

/** Names a custom pattern may take: lower snake case, not a built-in type. */
export const CUSTOM_NAME = /^[a-z][a-z0-9_]{0,31}$/;

/** A custom pattern's rule; throws a SyntaxError naming the pattern when the regex is invalid. */
export function customRule(custom: CustomPiiPattern): EntityRule {
  let regex: RegExp;
  try {
    // eslint-disable-next-line security/detect-non-literal-regexp -- operator-supplied PII pattern from configuration, compiled once at startup, never from a call
    regex = new RegExp(custom.pattern, "g");
  } catch (error) {
    throw new SyntaxError(`custom PII pattern ${custom.name}: ${(error as Error).message}`);
  }
  return regexRule(custom.name, `[${custom.name.toUpperCase()}]`, regex);
}

interface Finding {
  readonly rule: number;
  readonly start: number;
  readonly end: number;
}

export class PiiDetector {
  /** Every type this detector knows (built-in, then custom), in priority order. */
  readonly types: readonly string[];
  private readonly rules: readonly EntityRule[];
  private readonly scrubTypes: ReadonlySet<string>;

  constructor(options: PiiDetectorOptions = {}) {
    const custom = (options.customPatterns ?? []).map(customRule);
    const credentials = BUILTIN_RULES.findIndex((rule) => rule.type === "email");
    this.rules = [...BUILTIN_RULES.slice(0, credentials), ...custom, ...BUILTIN_RULES.slice(credentials)];
    this.types = [...PII_ENTITY_TYPES, ...custom.map((rule) => rule.type)];
    this.scrubTypes = new Set(this.types.filter((type) => type !== "ip" || options.scrubIps === true));
  }

  /**
   * Text for logs, span attributes and stored memory: every type replaced (IP addresses only
   * when `scrubIps` is set). Idempotent: placeholders match no rule.
   */
  scrub(text: string): string {
    return this.redact(text, this.scrubTypes).text;
  }

  /**
   * Finds every entity, keeps the higher-priority one where two overlap, and replaces the
   * findings whose type is in `replace`. Findings of other types are left in place (and still
   * shield their text from lower-priority rules: an unscrubbed IP is never read as a phone).
   */
  redact(text: string, replace: ReadonlySet<string>): Redaction {
    if (text.length < 6) return { text, counts: {} };
    let taken: Uint8Array | undefined;
    const findings: Finding[] = [];
    this.rules.forEach((rule, index) => {
      rule.find(text, (start, end) => {
        taken ??= new Uint8Array(text.length);
        for (let i = start; i < end; i++) if (taken[i] === 1) return;
        taken.fill(1, start, end);
        findings.push({ rule: index, start, end });
      });
    });
    if (findings.length === 0) return { text, counts: {} };
    findings.sort((a, b) => a.start - b.start);
    const counts: Record<string, number> = {};
    let out = "";
    let at = 0;
    for (const finding of findings) {
      const rule = this.rules[finding.rule];
      if (rule === undefined || !replace.has(rule.type)) continue;
      counts[rule.type] = (counts[rule.type] ?? 0) + 1;
      out += text.slice(at, finding.start) + rule.placeholder;
      at = finding.end;
    }
    return { text: at === 0 ? text : out + text.slice(at), counts };
  }

  /** Whether `type` is a built-in entity type. */
  static isBuiltin(type: string): type is PiiEntityType {
    return (PII_ENTITY_TYPES as readonly string[]).includes(type);
  }
}
