import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PII_PLACEHOLDERS, luhnValid, scrubPii } from "../../src/telemetry/pii.js";

describe("scrubPii", () => {
  it.each([
    ["mail me at jane.doe+x@example.co.uk today", "mail me at [EMAIL] today"],
    ["card 4111 1111 1111 1111 expires", "card [CARD] expires"],
    ["card 4111-1111-1111-1111", "card [CARD]"],
    ["call +44 20 7946 0958 now", "call [PHONE] now"],
    ["call (555) 123-4567", "call [PHONE]"],
    ["from 192.168.10.20 yesterday", "from [IP] yesterday"],
    ["Authorization: Bearer abcdefgh12345678", "Authorization: Bearer [SECRET]"],
    ["key sk-proj-ABCDEFGHIJKLMNOPQRSTUV used", "key [SECRET] used"],
    ["token ghp_abcdefghijklmnopqrstuvwxyz0123 here", "token [SECRET] here"],
    [
      "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
      "jwt [SECRET]",
    ],
  ])("removes %j", (input, expected) => {
    expect(scrubPii(input)).toBe(expected);
  });

  it.each([
    "The year 2024 had 365 days.",
    "Order number 1234567890123 is not a card (Luhn fails).",
    "Version 1.2.3 of the service",
    "Photosynthesis converts light into chemical energy.",
  ])("keeps ordinary text %j", (text) => {
    expect(scrubPii(text)).toBe(text);
  });

  it("checks card numbers with Luhn", () => {
    expect(luhnValid("4111111111111111")).toBe(true);
    expect(luhnValid("4111111111111112")).toBe(false);
    expect(luhnValid("12345")).toBe(false);
  });

  it("never leaves a generated e-mail address in place, wherever it sits", () => {
    const email = fc
      .tuple(
        fc.stringMatching(/^[a-z][a-z0-9.]{0,10}[a-z0-9]$/),
        fc.stringMatching(/^[a-z]{2,10}\.(com|org|io)$/),
      )
      .map(([user, domain]) => `${user}@${domain}`);
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40 }),
        email,
        fc.string({ maxLength: 40 }),
        (before, address, after) => {
          const out = scrubPii(`${before} ${address} ${after}`);
          expect(out).not.toContain(address);
          expect(out).toContain(PII_PLACEHOLDERS.email);
        },
      ),
    );
  });

  it("is idempotent", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const once = scrubPii(text);
        expect(scrubPii(once)).toBe(once);
      }),
    );
  });
});
