/**
 * The entity types the detector finds, each as a rule: a precompiled regular expression (or a
 * small scanner) plus a validator. Every quantifier is bounded and every pattern starts at a
 * fixed prefix or behind a look-behind, so the work per start position is bounded and a whole
 * scan stays linear in the text length (no catastrophic backtracking; see the adversarial
 * tests in tests/telemetry/pii/).
 *
 * Rules are listed in priority order: where two findings overlap, the earlier rule wins (a JWT
 * inside "Bearer eyJ…" is a JWT; an IPv4 address is never read as a phone number).
 */
import { bearerTokenLike, cardValid, ibanLength, ipv6Valid, keyLike, phoneValid } from "./validators.js";

/** Built-in entity types, in priority order. */
export const PII_ENTITY_TYPES = [
  "private_key",
  "jwt",
  "bearer",
  "api_key",
  "email",
  "iban",
  "card",
  "ip",
  "phone",
] as const;
export type PiiEntityType = (typeof PII_ENTITY_TYPES)[number];

/** Credentials (as opposed to personal data). */
export const SECRET_ENTITY_TYPES: readonly PiiEntityType[] = ["private_key", "jwt", "bearer", "api_key"];

/** The text that replaces a finding, by type (custom types use their upper-cased name). */
export const PII_PLACEHOLDERS: Readonly<Record<PiiEntityType, string>> = {
  private_key: "[PRIVATE_KEY]",
  jwt: "[JWT]",
  bearer: "[TOKEN]",
  api_key: "[API_KEY]",
  email: "[EMAIL]",
  iban: "[IBAN]",
  card: "[CARD]",
  ip: "[IP]",
  phone: "[PHONE]",
};

/** Receives one finding: the half-open range [start, end) of `text`. */
export type Emit = (start: number, end: number) => void;

/** One entity type's finder. */
export interface EntityRule {
  /** Built-in type or custom pattern name. */
  readonly type: string;
  readonly placeholder: string;
  /** Reports every finding in `text`, in order. */
  find(text: string, emit: Emit): void;
}

/**
 * A rule from a global regular expression. `accept` turns a match into the range to replace
 * (or rejects it); by default the whole match. `hint` is a cheap substring test that skips
 * the scan when the text cannot contain a match.
 */
export function regexRule(
  type: string,
  placeholder: string,
  regex: RegExp,
  options: { accept?: (match: RegExpExecArray) => readonly [number, number] | undefined; hint?: RegExp } = {},
): EntityRule {
  const { accept, hint } = options;
  return {
    type,
    placeholder,
    find(text, emit) {
      if (hint !== undefined && !hint.test(text)) return;
      regex.lastIndex = 0;
      let match: RegExpExecArray | null;
      while ((match = regex.exec(text)) !== null) {
        if (match[0].length === 0) {
          regex.lastIndex++;
          continue;
        }
        const range = accept ? accept(match) : ([match.index, match.index + match[0].length] as const);
        if (range !== undefined) emit(range[0], range[1]);
      }
    },
  };
}

const PEM_BEGIN = /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/g;
const PEM_END = /-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/g;

/**
 * PEM private-key blocks (PKCS#1/#8, EC, OpenSSH, PGP "PRIVATE KEY BLOCK"), across lines. A
 * block without its END line is masked to the end of the text: a truncated key is still one.
 */
const privateKey: EntityRule = {
  type: "private_key",
  placeholder: PII_PLACEHOLDERS.private_key,
  find(text, emit) {
    if (!text.includes("PRIVATE KEY")) return;
    PEM_BEGIN.lastIndex = 0;
    let begin: RegExpExecArray | null;
    while ((begin = PEM_BEGIN.exec(text)) !== null) {
      PEM_END.lastIndex = PEM_BEGIN.lastIndex;
      const end = PEM_END.exec(text);
      const stop = end === null ? text.length : PEM_END.lastIndex;
      emit(begin.index, stop);
      PEM_BEGIN.lastIndex = stop;
      if (end === null) return;
    }
  },
};

/** Three base64url segments, the first a JSON header (`eyJ` = `{"`); the signature may be empty. */
const jwt = regexRule(
  "jwt",
  PII_PLACEHOLDERS.jwt,
  /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,1024}\.[A-Za-z0-9_-]{2,8192}\.[A-Za-z0-9_-]{0,1024}/g,
  { hint: /eyJ/ },
);

/** `Bearer <token>` (and `Basic <credentials>`): the token is replaced, the scheme kept. */
const bearer = regexRule(
  "bearer",
  PII_PLACEHOLDERS.bearer,
  /\b(?:[Bb]earer|BEARER|Basic)[ \t]{1,8}([A-Za-z0-9._~+/-]{8,4096}=*)/g,
  {
    hint: /earer|EARER|Basic/,
    accept: (m) => {
      const token = m[1] ?? "";
      if (!bearerTokenLike(token)) return undefined;
      const end = m.index + m[0].length;
      return [end - token.length, end];
    },
  },
);

/**
 * Vendor key shapes: OpenAI/Anthropic/Stripe (`sk-…`, `sk-ant-…`, `sk_live_…`, `pk_…`, `rk_…`),
 * MLSDM's own (`mlsdm_…`), AWS access key ids (`AKIA…`, `ASIA…`), GitHub (`ghp_…`, `gho_…`,
 * `github_pat_…`), Slack (`xoxb-…`, `xoxp-…`). Vendor keys must contain a digit and a letter.
 */
const vendorKeys = regexRule(
  "api_key",
  PII_PLACEHOLDERS.api_key,
  /(?<![A-Za-z0-9_-])(?:(?:sk|pk|rk)[-_](?:ant-|proj-|live_|test_)?[A-Za-z0-9_-]{16,512}|mlsdm_[A-Za-z0-9_-]{16,512}|(?:AKIA|ASIA)[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{20,255}|github_pat_[A-Za-z0-9_]{20,255}|xox[bpoasr]-[A-Za-z0-9-]{10,255})(?![A-Za-z0-9_-])/g,
  { accept: (m) => (keyLike(m[0]) ? [m.index, m.index + m[0].length] : undefined) },
);

/**
 * A value assigned to a key-like name: `api_key=…`, `apiKey: …`, `x-api-key: …`,
 * `access_token=…`, `client_secret=…`, `password: …`. Only the value is replaced.
 */
const assignedSecret = regexRule(
  "api_key",
  PII_PLACEHOLDERS.api_key,
  /\b(?:x-)?(?:api[_-]?key|access[_-]?token|auth[_-]?token|secret[_-]?key|client[_-]?secret|password|passwd)["']?[ \t]{0,8}[=:][ \t]{0,8}["']?([^\s"',;&]{8,512})/gi,
  {
    hint: /key|token|secret|pass/i,
    accept: (m) => {
      const value = m[1] ?? "";
      if (value.startsWith("[")) return undefined; // already a placeholder
      const end = m.index + m[0].length;
      return [end - value.length, end];
    },
  },
);

const email = regexRule(
  "email",
  PII_PLACEHOLDERS.email,
  // eslint-disable-next-line security/detect-unsafe-regex -- bounded or unambiguous repetition only (no nested ambiguous quantifier): linear time
  /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}(?![A-Za-z0-9-])/g,
  { hint: /@/ },
);

/** Country code, check digits, 11 to 30 alphanumerics in optional groups; mod-97 checked. */
// eslint-disable-next-line security/detect-unsafe-regex -- bounded or unambiguous repetition only (no nested ambiguous quantifier): linear time
const iban = regexRule("iban", PII_PLACEHOLDERS.iban, /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b/g, {
  accept: (m) => {
    const length = ibanLength(m[0]);
    return length === 0 ? undefined : [m.index, m.index + length];
  },
});

/** 13 to 19 digits, optionally grouped by single spaces or dashes; issuer prefix and Luhn checked. */
// eslint-disable-next-line security/detect-unsafe-regex -- bounded or unambiguous repetition only (no nested ambiguous quantifier): linear time
const card = regexRule("card", PII_PLACEHOLDERS.card, /(?<![\d.,+-])\d(?:[ -]?\d){12,18}(?![\d.,]?\d)/g, {
  accept: (m) => (cardValid(m[0].replace(/\D/g, "")) ? [m.index, m.index + m[0].length] : undefined),
});

const ipv4 = regexRule(
  "ip",
  PII_PLACEHOLDERS.ip,
  // eslint-disable-next-line security/detect-unsafe-regex -- bounded or unambiguous repetition only (no nested ambiguous quantifier): linear time
  /(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\d]|\.\d)/g,
);

/** IPv6 candidates (hex groups and colons, optional IPv4 tail), checked with node:net. */
const ipv6 = regexRule(
  "ip",
  PII_PLACEHOLDERS.ip,
  // eslint-disable-next-line security/detect-unsafe-regex -- bounded or unambiguous repetition only (no nested ambiguous quantifier): linear time
  /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?(?![\w:.])/g,
  {
    hint: /:.*:/s,
    accept: (m) => (ipv6Valid(m[0]) ? [m.index, m.index + m[0].length] : undefined),
  },
);

/**
 * International (`+44 20 7946 0958`, `+1-555-123-4567`) and national formats (`(555) 123-4567`,
 * `030 1234 5678`, `555.123.4567`); see `phoneValid` for what is left alone.
 */
const phone = regexRule(
  "phone",
  PII_PLACEHOLDERS.phone,
  // eslint-disable-next-line security/detect-unsafe-regex -- bounded or unambiguous repetition only (no nested ambiguous quantifier): linear time
  /(?<![\w+.-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{1,5}(?:[ .-]\d{2,8}){1,4}(?![\w:]|[.-]\d)|(?<![\w+])\+\d{8,15}(?!\w)/g,
  { accept: (m) => (phoneValid(m[0]) ? [m.index, m.index + m[0].length] : undefined) },
);

/** The built-in rules, in priority order (see PII_ENTITY_TYPES). */
export const BUILTIN_RULES: readonly EntityRule[] = [
  privateKey,
  jwt,
  bearer,
  vendorKeys,
  assignedSecret,
  email,
  iban,
  card,
  ipv6,
  ipv4,
  phone,
];
