/**
 * Configuration of PII and secret handling (BASE-SEC-d): whether IP addresses count as personal
 * data in logs, spans and stored memory; what the prompt policy does with each entity type
 * found in a Generate prompt (allow, mask, block); and operator-defined patterns.
 *
 * Prompt defaults: credentials (private keys, JWTs, bearer tokens, API keys) and payment data
 * (cards, IBANs) are masked, because a model never needs them to answer and forwarding them to
 * a third-party provider is a leak with real cost (PCI DSS, key compromise). E-mail addresses,
 * phone numbers and IP addresses are allowed, because prompts routinely and legitimately carry
 * them ("draft a reply to ana@example.com") and masking would silently change what the user
 * asked; operators who must keep contact data from the provider set them to mask or block.
 */
import { z } from "zod";
import {
  CUSTOM_NAME,
  PII_ENTITY_TYPES,
  PII_PLACEHOLDERS,
  type PiiEntityType,
} from "../telemetry/pii/index.js";
import { flag, key, oneOf } from "./meta.js";

/** What the prompt policy does with an entity type. */
export const PROMPT_PII_ACTIONS = ["allow", "mask", "block"] as const;
export type PromptPiiAction = (typeof PROMPT_PII_ACTIONS)[number];

/** Config key (camelCase) and default prompt action of each built-in entity type. */
export const PROMPT_PII_KEYS: Readonly<
  Record<PiiEntityType, { key: string; env: string; fallback: PromptPiiAction; what: string }>
> = {
  email: { key: "email", env: "EMAIL", fallback: "allow", what: "e-mail addresses" },
  phone: { key: "phone", env: "PHONE", fallback: "allow", what: "phone numbers" },
  ip: { key: "ip", env: "IP", fallback: "allow", what: "IPv4 and IPv6 addresses" },
  card: { key: "card", env: "CARD", fallback: "mask", what: "payment card numbers (Luhn-checked)" },
  iban: { key: "iban", env: "IBAN", fallback: "mask", what: "IBANs (mod-97 checked)" },
  bearer: { key: "bearer", env: "BEARER", fallback: "mask", what: "Bearer/Basic tokens" },
  api_key: { key: "apiKey", env: "API_KEY", fallback: "mask", what: "API keys (sk-, ghp_, AKIA, api_key=…)" },
  jwt: { key: "jwt", env: "JWT", fallback: "mask", what: "JSON Web Tokens" },
  private_key: { key: "privateKey", env: "PRIVATE_KEY", fallback: "mask", what: "PEM private-key blocks" },
};

/** One operator-defined entity type. */
export interface CustomPatternConfig {
  readonly name: string;
  readonly pattern: string;
  readonly action: PromptPiiAction;
}

const ENTRY = /^([a-z][a-z0-9_]{0,31})(?::(allow|mask|block))?=([\s\S]+)$/;
const GRAMMAR = 'entries name[:allow|mask|block]=regex separated by ";" (\\; for a literal semicolon)';

function splitEntries(text: string): string[] {
  const entries: string[] = [];
  let current = "";
  for (let i = 0; i < text.length; i++) {
    const char = text.charAt(i);
    if (char === "\\" && text[i + 1] === ";") {
      current += ";";
      i++;
    } else if (char === ";") {
      entries.push(current);
      current = "";
    } else current += char;
  }
  entries.push(current);
  return entries.map((entry) => entry.trim()).filter((entry) => entry !== "");
}

/**
 * The custom patterns of `pii.customPatterns` (`employee_id=EMP-\d{6};ticket:block=TCK-[0-9]+`),
 * or a description of the first problem (bad entry, reserved or repeated name, invalid regex).
 */
export function parseCustomPatterns(text: string): CustomPatternConfig[] | string {
  const out: CustomPatternConfig[] = [];
  for (const entry of splitEntries(text)) {
    const match = ENTRY.exec(entry);
    if (!match) return `${GRAMMAR}; "${entry.slice(0, 40)}" is not one`;
    const [, name = "", action = "mask", pattern = ""] = match;
    if (!CUSTOM_NAME.test(name) || (PII_ENTITY_TYPES as readonly string[]).includes(name)) {
      return `${GRAMMAR}; ${name} is a built-in entity type`;
    }
    if (out.some((p) => p.name === name)) return `${GRAMMAR}; ${name} appears twice`;
    try {
      // eslint-disable-next-line security/detect-non-literal-regexp -- operator-supplied PII pattern from configuration, compiled once at startup, never from a call
      new RegExp(pattern, "g");
    } catch (error) {
      return `${GRAMMAR} with valid regular expressions; ${name}: ${(error as Error).message}`;
    }
    out.push({ name, pattern, action: action as PromptPiiAction });
  }
  return out;
}

/** The YAML list form ({name, pattern, action}) rewritten in the one text form. */
function listToText(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  return value
    .map((item: unknown) => {
      if (typeof item !== "object" || item === null) return String(item);
      const { name, pattern, action } = item as Record<string, unknown>;
      const word = (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(value));
      const suffix = action === undefined ? "" : `:${word(action)}`;
      return `${word(name)}${suffix}=${word(pattern).replace(/;/g, "\\;")}`;
    })
    .join(";");
}

const customPatterns = z
  .preprocess(
    listToText,
    z.string().superRefine((text, context) => {
      const parsed = parseCustomPatterns(text);
      if (typeof parsed === "string") context.addIssue({ code: "custom", input: text, message: parsed });
    }),
  )
  .default("");

function action(type: PiiEntityType) {
  const spec = PROMPT_PII_KEYS[type];
  return key(oneOf(PROMPT_PII_ACTIONS, spec.fallback), {
    env: `MLSDM_PII_PROMPT_${spec.env}`,
    description: `What the prompt policy does with ${spec.what} in a Generate/GenerateStream prompt: allow, mask (replace with ${PII_PLACEHOLDERS[type]}) or block (INVALID_ARGUMENT E108).`,
  });
}

/** `pii.prompt`: one action per built-in entity type (keys as in PROMPT_PII_KEYS). */
const promptSection = z
  .strictObject({
    email: action("email"),
    phone: action("phone"),
    ip: action("ip"),
    card: action("card"),
    iban: action("iban"),
    bearer: action("bearer"),
    apiKey: action("api_key"),
    jwt: action("jwt"),
    privateKey: action("private_key"),
  })
  .prefault({});

/** The `pii` section. */
export const piiSection = z
  .strictObject({
    scrubIps: key(flag(false), {
      env: "MLSDM_PII_SCRUB_IPS",
      description:
        "Also replace IPv4/IPv6 addresses with [IP] in logs, span attributes and stored memory texts (off: addresses help operators).",
    }),
    prompt: promptSection,
    customPatterns: key(customPatterns, {
      env: "MLSDM_PII_CUSTOM_PATTERNS",
      description:
        'Extra entity types, masked everywhere the built-in ones are: name[:allow|mask|block]=regex entries separated by ";" (e.g. employee_id=EMP-\\d{6};ticket:block=TCK-[0-9]+), or a YAML list of {name, pattern, action}. The action (default mask) applies to prompts.',
    }),
  })
  .prefault({});
