/**
 * Removes personal data and credentials from text (BASE-SEC-d): e-mail addresses, phone
 * numbers, payment cards (Luhn-checked), IBANs (mod-97 checked), IP addresses (when
 * configured), bearer tokens, API keys, JWTs, PEM private keys and operator-defined patterns.
 * Each finding becomes a typed placeholder such as `[EMAIL]`, so text stays readable and the
 * kind of data removed stays visible.
 *
 * The process-wide detector (`scrubPii`) is what the logger and the span processor use; the
 * composition root installs one built from the configuration at start-up.
 */
import { PiiDetector } from "./detector.js";

export { PiiDetector, CUSTOM_NAME, customRule } from "./detector.js";
export type { CustomPiiPattern, PiiDetectorOptions, Redaction } from "./detector.js";
export { PII_ENTITY_TYPES, PII_PLACEHOLDERS, SECRET_ENTITY_TYPES, type PiiEntityType } from "./entities.js";
export { cardValid, ibanChecksumValid, luhnValid } from "./validators.js";

let current = new PiiDetector();

/*
 * Log lines repeat the same short strings on every call ("rpc", the method path, the listener,
 * "OK"): scrubbing each again was ~3 % of a ProcessEvent call's CPU (ADR 0021). Results for
 * short strings are remembered, in a bounded map dropped whole when full or when the detector
 * changes; the detector is deterministic, so a remembered result is the one it would return.
 */
const MEMO_MAX_LENGTH = 96;
const MEMO_MAX_ENTRIES = 512;
const memo = new Map<string, string>();

/** Makes `detector` the one `scrubPii` uses (logs, span attributes). */
export function installPiiDetector(detector: PiiDetector): void {
  current = detector;
  memo.clear();
}

/** The process-wide detector. */
export function piiDetector(): PiiDetector {
  return current;
}

/** `text` with personal data and credentials replaced by placeholders (the process-wide detector). */
export function scrubPii(text: string): string {
  if (text.length > MEMO_MAX_LENGTH) return current.scrub(text);
  const known = memo.get(text);
  if (known !== undefined) return known;
  const scrubbed = current.scrub(text);
  if (memo.size >= MEMO_MAX_ENTRIES) memo.clear();
  memo.set(text, scrubbed);
  return scrubbed;
}
