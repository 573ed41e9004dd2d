/**
 * Checks that turn a regular-expression candidate into a finding: checksums (Luhn for payment
 * cards, ISO 7064 mod-97 for IBANs) and shape heuristics (phone numbers, key-like tokens), so
 * that ordinary numbers and words survive scrubbing. Pure functions, no allocation beyond a
 * digit string.
 */
import { isIPv6 } from "node:net";

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
 * A payment card number: 13 to 19 digits, an issuer prefix in 2..6 (Mastercard 2/5, Amex 3,
 * Visa 4, Discover/UnionPay/Maestro 6) and a valid Luhn check digit. The prefix rule keeps
 * Unix timestamps in milliseconds (13 digits starting with 1) and zero-padded ids out.
 */
export function cardValid(candidate: string): boolean {
  const first = candidate.charCodeAt(0) - 48;
  return first >= 2 && first <= 6 && luhnValid(candidate);
}

/** IBAN length by country (ISO 13616 registry), for the countries most often seen. */
const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24,
  AE: 23,
  AL: 28,
  AT: 20,
  AZ: 28,
  BA: 20,
  BE: 16,
  BG: 22,
  BH: 22,
  BR: 29,
  CH: 21,
  CR: 22,
  CY: 28,
  CZ: 24,
  DE: 22,
  DK: 18,
  DO: 28,
  EE: 20,
  EG: 29,
  ES: 24,
  FI: 18,
  FO: 18,
  FR: 27,
  GB: 22,
  GE: 22,
  GI: 23,
  GL: 18,
  GR: 27,
  GT: 28,
  HR: 21,
  HU: 28,
  IE: 22,
  IL: 23,
  IS: 26,
  IT: 27,
  JO: 30,
  KW: 30,
  KZ: 20,
  LB: 28,
  LI: 21,
  LT: 20,
  LU: 20,
  LV: 21,
  MC: 27,
  MD: 24,
  ME: 22,
  MK: 19,
  MR: 27,
  MT: 31,
  MU: 30,
  NL: 18,
  NO: 15,
  PK: 24,
  PL: 28,
  PS: 29,
  PT: 25,
  QA: 29,
  RO: 24,
  RS: 22,
  SA: 24,
  SE: 24,
  SI: 19,
  SK: 24,
  SM: 27,
  TN: 24,
  TR: 26,
  UA: 29,
  VG: 24,
  XK: 20,
};

/**
 * The ISO 7064 mod-97 remainder check of an IBAN over `text` from 0 to `end`, skipping spaces
 * (no copy is made: this runs on every candidate of every log line).
 */
function mod97Valid(text: string, end: number): boolean {
  let remainder = 0;
  let count = 0;
  const add = (code: number): void => {
    const value = code >= 65 ? code - 55 : code - 48; // A=10 … Z=35
    remainder = value > 9 ? (remainder * 100 + value) % 97 : (remainder * 10 + value) % 97;
  };
  // The first four characters (country, check digits) are moved to the end.
  let head = 0;
  while (head < end && count < 4) if (text.charCodeAt(head++) !== 32) count++;
  for (let i = head; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code !== 32) {
      add(code);
      count++;
    }
  }
  for (let i = 0; i < head; i++) if (text.charCodeAt(i) !== 32) add(text.charCodeAt(i));
  return count >= 15 && count <= 34 && remainder === 1;
}

/** True when `compact` (no spaces, upper case) passes the ISO 7064 mod-97 check of an IBAN. */
export function ibanChecksumValid(compact: string): boolean {
  return mod97Valid(compact, compact.length);
}

/**
 * The length, within `candidate` (spaces included), of the IBAN it starts with, or 0 when it
 * starts with none. A known country fixes the length, so an IBAN followed by more capitals
 * ("DE89 … 00 AND") is still found; an unknown country must check as a whole.
 */
export function ibanLength(candidate: string): number {
  const expected = IBAN_LENGTHS[candidate.slice(0, 2)];
  if (expected === undefined) return mod97Valid(candidate, candidate.length) ? candidate.length : 0;
  let seen = 0;
  for (let i = 0; i < candidate.length; i++) {
    if (candidate.charCodeAt(i) === 32) continue;
    seen++;
    if (seen === expected) return mod97Valid(candidate, i + 1) ? i + 1 : 0;
  }
  return 0;
}

/**
 * A phone number has 9 to 15 digits (E.164 allows 15) and is written like one: with a leading
 * "+", or with separators or parentheses. Left alone: an unbroken run of digits (ids, order
 * numbers, timestamps) and thousands-grouped numbers ("1.234.567.890", "1 234 567 890", "123-456-789").
 */
export function phoneValid(match: string): boolean {
  let digits = 0;
  for (let i = 0; i < match.length; i++) {
    const code = match.charCodeAt(i);
    if (code >= 48 && code <= 57) digits++;
  }
  if (digits < 9 || digits > 15) return false;
  if (match.startsWith("+")) return true;
  if (!/[ .()-]/.test(match)) return false;
  if (/^\d{4}[-./]\d{1,2}[-./]\d{1,2}(?!\d)/.test(match)) return false; // a date, maybe with a time
  // eslint-disable-next-line security/detect-unsafe-regex -- bounded or unambiguous repetition only (no nested ambiguous quantifier): linear time
  return !/^\d{1,3}(?:[ .,-]\d{3})+$/.test(match);
}

/** A vendor key or generic secret value: has at least one digit and one letter. */
export function keyLike(token: string): boolean {
  return /\d/.test(token) && /[A-Za-z]/.test(token);
}

/**
 * A bearer token (not a word that follows "bearer" in prose): at least 8 characters with a
 * digit or a token symbol, or at least 20 characters.
 */
export function bearerTokenLike(token: string): boolean {
  return token.length >= 20 || /[\d._~+/=-]/.test(token);
}

/** A real IPv6 address with at least one digit (so "a::b" in code is not one). */
export function ipv6Valid(candidate: string): boolean {
  return /\d/.test(candidate) && isIPv6(candidate);
}
