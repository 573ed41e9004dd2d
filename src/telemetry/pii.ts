/**
 * Removes personal data and credentials from text before it is stored as memory context or
 * written to a log line (BASE-SEC-h, issue 5 "PII-scrubbed"): e-mail addresses, payment card
 * numbers (Luhn-checked, so ordinary long numbers survive), phone numbers, IPv4 addresses,
 * bearer tokens, JWTs and API-key-shaped secrets. Each match becomes a typed placeholder such
 * as `[EMAIL]`, so the text stays readable and the kind of data removed stays visible.
 *
 * Regular expressions are compiled once; the scrubber is a pure function and safe to call on
 * the request path (linear-time patterns, no nested quantifiers).
 */

/** Placeholders, by kind of data removed. */
export const PII_PLACEHOLDERS = {
  email: "[EMAIL]",
  card: "[CARD]",
  phone: "[PHONE]",
  ipv4: "[IP]",
  secret: "[SECRET]",
} as const;

const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\b/g;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi;
// Vendor key shapes (sk-..., sk_live_..., ghp_..., AKIA...) and mlsdm's own keys (mlsdm_...).
const API_KEY =
  /\b(?:sk|pk|rk)[-_](?:live_|test_|proj-|ant-)?[A-Za-z0-9_-]{16,}\b|\bgh[pousr]_[A-Za-z0-9]{20,}\b|\bAKIA[0-9A-Z]{16}\b|\bmlsdm_[A-Za-z0-9_-]{16,}\b/g;
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
const CARD = /\b\d(?:[ -]?\d){12,18}\b/g;
const PHONE = /(?<![\w+])\+?(?:\d{1,3})?[ .-]?\(?\d{2,4}\)?[ .-]?\d{3,4}[ .-]?\d{3,4}(?!\w)/g;
const IPV4 = /\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b/g;

/** True when the digits of `candidate` pass the Luhn check (payment card numbers do). */
export function luhnValid(candidate: string): boolean {
  const digits = candidate.replace(/\D/g, "");
  if (digits.length < 13 || digits.length > 19) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/**
 * A phone number has 9 to 15 digits and is written like one: with a leading "+", or with
 * separators or parentheses. An unbroken run of digits is left alone (order numbers, ids).
 */
function looksLikePhone(match: string): boolean {
  const digits = match.replace(/\D/g, "").length;
  return digits >= 9 && digits <= 15 && /^\+|[ .()-]/.test(match.trim());
}

/** `text` with personal data and credentials replaced by placeholders. */
export function scrubPii(text: string): string {
  if (text === "") return text;
  return text
    .replace(JWT, PII_PLACEHOLDERS.secret)
    .replace(BEARER, (_match, scheme: string) => `${scheme} ${PII_PLACEHOLDERS.secret}`)
    .replace(API_KEY, PII_PLACEHOLDERS.secret)
    .replace(EMAIL, PII_PLACEHOLDERS.email)
    .replace(CARD, (match) => (luhnValid(match) ? PII_PLACEHOLDERS.card : match))
    .replace(IPV4, PII_PLACEHOLDERS.ipv4)
    .replace(PHONE, (match) => (looksLikePhone(match) ? PII_PLACEHOLDERS.phone : match));
}
