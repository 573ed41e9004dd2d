/**
 * The PII detector and prompt policy built from the `pii` configuration section: one detector
 * (built-in types, IPs as configured, custom patterns) for logs, spans, stored memory and the
 * prompt policy.
 */
import type { Config } from "../config/index.js";
import { PROMPT_PII_KEYS, parseCustomPatterns, type PromptPiiAction } from "../config/schema-pii.js";
import { PiiDetector, type PiiEntityType } from "../telemetry/pii/index.js";
import type { Policy } from "./policy.js";
import { promptPii } from "./prompt-pii.js";

/** The configured detector and the policies to add to the chain (none when all types are allowed). */
export interface PiiSetup {
  readonly detector: PiiDetector;
  readonly policies: readonly Policy[];
}

export function piiFromConfig(config: Config): PiiSetup {
  const custom = parseCustomPatterns(config.pii.customPatterns);
  // The schema refused anything unparseable at start-up (E801); this is a programming error.
  if (typeof custom === "string") throw new Error(`pii.customPatterns: ${custom}`);
  const detector = new PiiDetector({ scrubIps: config.pii.scrubIps, customPatterns: custom });
  const prompt = config.pii.prompt as Readonly<Record<string, PromptPiiAction>>;
  const actions: Record<string, PromptPiiAction> = {};
  for (const [type, spec] of Object.entries(PROMPT_PII_KEYS) as [PiiEntityType, { key: string }][]) {
    actions[type] = prompt[spec.key] ?? "allow";
  }
  for (const pattern of custom) actions[pattern.name] = pattern.action;
  const policy = promptPii({ detector, actions });
  return { detector, policies: policy ? [policy] : [] };
}
