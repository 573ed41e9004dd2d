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

/** Makes `detector` the one `scrubPii` uses (logs, span attributes). */
export function installPiiDetector(detector: PiiDetector): void {
  current = detector;
}

/** The process-wide detector. */
export function piiDetector(): PiiDetector {
  return current;
}

/** `text` with personal data and credentials replaced by placeholders (the process-wide detector). */
export function scrubPii(text: string): string {
  return current.scrub(text);
}
