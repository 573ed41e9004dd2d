/**
 * The detector's tables (BASE-SEC-d): for each entity type, texts that must be masked (with the
 * expected output) and look-alikes that must survive unchanged.
 */
import { describe, expect, it } from "vitest";
import { PiiDetector, ibanChecksumValid, luhnValid, cardValid } from "../../../src/telemetry/pii/index.js";

const everything = new PiiDetector({ scrubIps: true });
const noIps = new PiiDetector();

const JWT =
  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
const PEM = [
  "-----BEGIN RSA PRIVATE KEY-----",
  "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
  "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK",
  "-----END RSA PRIVATE KEY-----",
].join("\n");

const POSITIVES: Record<string, readonly (readonly [string, string])[]> = {
  email: [
    ["mail me at jane.doe+x@example.co.uk today", "mail me at [EMAIL] today"],
    ["<bob@example.com>", "<[EMAIL]>"],
    ["a_b%c-d@sub.domain-x.io.", "[EMAIL]."],
    ["two: x@y.org, z@w.net", "two: [EMAIL], [EMAIL]"],
  ],
  phone: [
    ["call +44 20 7946 0958 now", "call [PHONE] now"],
    ["call (555) 123-4567", "call [PHONE]"],
    ["US 555-123-4567.", "US [PHONE]."],
    ["+1-555-123-4567", "[PHONE]"],
    ["+1 (555) 123-4567", "[PHONE]"],
    ["Berlin +49 30 1234567", "Berlin [PHONE]"],
    ["Paris +33 1 23 45 67 89", "Paris [PHONE]"],
    ["Moscow +7 495 123-45-67", "Moscow [PHONE]"],
    ["national 030 1234 5678", "national [PHONE]"],
    ["dots 555.123.4567", "dots [PHONE]"],
    ["e164 +4915112345678", "e164 [PHONE]"],
  ],
  card: [
    ["card 4111 1111 1111 1111 expires", "card [CARD] expires"],
    ["card 4111-1111-1111-1111", "card [CARD]"],
    ["visa 4012888888881881", "visa [CARD]"],
    ["amex 3782 822463 10005", "amex [CARD]"],
    ["mc 5555555555554444.", "mc [CARD]."],
    ["13 digits 4222222222222", "13 digits [CARD]"],
  ],
  iban: [
    ["IBAN DE89 3704 0044 0532 0130 00 please", "IBAN [IBAN] please"],
    ["GB82WEST12345698765432", "[IBAN]"],
    ["FR1420041010050500013M02606 ok", "[IBAN] ok"],
    ["pay to NL91ABNA0417164300 AND confirm", "pay to [IBAN] AND confirm"],
  ],
  ip: [
    ["from 192.168.10.20 yesterday", "from [IP] yesterday"],
    ["peer 10.0.0.1:50051", "peer [IP]:50051"],
    ["v6 2001:db8::8a2e:370:7334 here", "v6 [IP] here"],
    ["loopback ::1 and fe80::1", "loopback [IP] and [IP]"],
    ["mapped ::ffff:192.0.2.128", "mapped [IP]"],
  ],
  bearer: [
    ["Authorization: Bearer abcdefgh12345678", "Authorization: Bearer [TOKEN]"],
    ["authorization: bearer opaque.token-value_1", "authorization: bearer [TOKEN]"],
    ["Basic dXNlcjpwYXNzd29yZA==", "Basic [TOKEN]"],
  ],
  api_key: [
    ["key sk-proj-ABCDEFGHIJKLMNOPQRSTUV1234 used", "key [API_KEY] used"],
    ["sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789", "[API_KEY]"],
    ["stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc", "stripe [API_KEY]"],
    ["mlsdm_a1b2c3d4e5f6g7h8i9j0k1l2", "[API_KEY]"],
    ["aws AKIAIOSFODNN7EXAMPLE", "aws [API_KEY]"],
    ["token ghp_abcdefghijklmnopqrstuvwxyz0123 here", "token [API_KEY] here"],
    ["slack xoxb-123456789012-abcdefABCDEF", "slack [API_KEY]"],
    ["slack xoxp-123456789012-abcdefABCDEF", "slack [API_KEY]"],
    ["api_key=Zm9vYmFyYmF6cXV4", "api_key=[API_KEY]"],
    ["apiKey: 'q9w8e7r6t5y4u3i2'", "apiKey: '[API_KEY]'"],
    ["x-api-key: 0123456789abcdef", "x-api-key: [API_KEY]"],
    ['{"password":"correct horse"}', '{"password":"correct horse"}'],
    ['{"password":"hunter2hunter2"}', '{"password":"[API_KEY]"}'],
  ],
  jwt: [
    [`jwt ${JWT}`, "jwt [JWT]"],
    [`Authorization: Bearer ${JWT}`, "Authorization: Bearer [JWT]"],
    ["unsigned eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "unsigned [JWT]"],
  ],
  private_key: [
    [`key:\n${PEM}\nend`, "key:\n[PRIVATE_KEY]\nend"],
    [
      "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----",
      "[PRIVATE_KEY]",
    ],
    [
      "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE=\n-----END OPENSSH PRIVATE KEY-----",
      "[PRIVATE_KEY]",
    ],
    ["truncated -----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg", "truncated [PRIVATE_KEY]"],
  ],
};

const NEGATIVES: Record<string, readonly string[]> = {
  email: ["user at example dot com", "@handle on social", "a@b", "name@localhost"],
  phone: [
    "The year 2024 had 365 days.",
    "Version 1.2.3 of the service",
    "Order id 123456789012",
    "date 2024-01-15 10:30:00",
    "timestamp 2024-01-15T10:30:00.123Z",
    "epoch ms 1700000000000",
    "uuid 550e8400-e29b-41d4-a716-446655440000",
    "population 1.234.567.890",
    "population 1 234 567 890",
    "range 10-20",
    "between 12:00 and 13:30",
    "ticket 123-456-789",
    "short 555-1234",
  ],
  card: [
    "Order number 1234567890123 is not a card (Luhn fails).",
    "4111 1111 1111 1112",
    "0000 0000 0000 0000",
    "1234-5678-9012-3456",
    "123456789012345678901234",
  ],
  iban: ["DE89 3704 0044 0532 0130 01", "GB82WEST12345698765431", "ISO8601 is a standard", "AB12"],
  ip: ["Version 1.2.3", "999.1.1.1", "std::vector<int>", "time 10:30:00", "a::b", "1.2.3.4.5"],
  bearer: ["the bearer of this letter", "Bearer instrument", "Basic introduction to biology"],
  api_key: [
    "sk-learn is a library",
    "the task-based-approach-for-everything-here",
    "ask-me-anything-about-everything",
    "AKIA is a prefix",
    "password: hidden",
    "api key rotation is documented",
  ],
  jwt: ["eyJ alone", "eyJhbGciOiJIUzI1NiJ9 without dots"],
  private_key: [
    "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqh\n-----END PUBLIC KEY-----",
    "a private key is secret",
  ],
};

describe("PII detector tables", () => {
  for (const [type, rows] of Object.entries(POSITIVES)) {
    it.each(rows)(`${type}: masks %j`, (input, expected) => {
      expect(everything.scrub(input)).toBe(expected);
      expect(everything.redact(input, new Set([type])).counts[type] ?? 0).toBeGreaterThan(
        input === expected ? -1 : 0,
      );
    });
  }
  for (const [type, rows] of Object.entries(NEGATIVES)) {
    it.each(rows)(`${type}: keeps %j`, (text) => {
      expect(everything.scrub(text)).toBe(text);
    });
  }

  it("leaves IP addresses alone unless scrubIps is set, and never reads them as phones", () => {
    expect(noIps.scrub("from 192.168.10.20 and 10.0.0.1")).toBe("from 192.168.10.20 and 10.0.0.1");
    expect(noIps.scrub("v6 2001:db8::8a2e:370:7334")).toBe("v6 2001:db8::8a2e:370:7334");
    expect(everything.scrub("from 192.168.10.20")).toBe("from [IP]");
  });

  it("replaces only the selected types and counts them", () => {
    const text = "mail bob@example.com card 4111 1111 1111 1111 and bob@example.org";
    const result = everything.redact(text, new Set(["card"]));
    expect(result.text).toBe("mail bob@example.com card [CARD] and bob@example.org");
    expect(result.counts).toEqual({ card: 1 });
    expect(everything.redact(text, new Set(["card", "email"])).counts).toEqual({ card: 1, email: 2 });
    expect(everything.redact("nothing here at all", new Set(["email"])).counts).toEqual({});
  });

  it("matches custom patterns with their own placeholder", () => {
    const detector = new PiiDetector({
      customPatterns: [
        { name: "employee_id", pattern: "EMP-\\d{6}" },
        { name: "ticket", pattern: "TCK-[0-9]+" },
      ],
    });
    expect(detector.types).toContain("employee_id");
    expect(detector.scrub("EMP-123456 filed TCK-42 and EMP-12")).toBe(
      "[EMPLOYEE_ID] filed [TICKET] and EMP-12",
    );
    expect(() => new PiiDetector({ customPatterns: [{ name: "bad", pattern: "(" }] })).toThrow(
      /custom PII pattern bad/,
    );
  });

  it("checks card numbers with Luhn and an issuer prefix, IBANs with mod-97", () => {
    expect(luhnValid("4111111111111111")).toBe(true);
    expect(luhnValid("4111111111111112")).toBe(false);
    expect(luhnValid("12345")).toBe(false);
    expect(cardValid("1700000000006")).toBe(false); // Luhn-valid, but no card starts with 1
    expect(ibanChecksumValid("DE89370400440532013000")).toBe(true);
    expect(ibanChecksumValid("DE89370400440532013001")).toBe(false);
  });
});
