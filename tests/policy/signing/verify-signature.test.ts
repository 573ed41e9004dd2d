/**
 * The request-signing policy without a network (SEC-007): header parsing, when a signature is
 * required, each failure with its catalogue code, the time window with clock skew, replays, key
 * rotation, and the security event of every failure.
 */
import { create, type DescMethod } from "@bufbuild/protobuf";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { canonicalString, signRequest } from "../../../src/client/signing.js";
import { EngineService, GenerateRequestSchema } from "../../../src/gen/mlsdm/v1/engine_pb.js";
import { type Identity } from "../../../src/policy/identity.js";
import { parseSignatureHeader } from "../../../src/policy/signing/canonical.js";
import { MemoryReplayCache, type ReplayCache } from "../../../src/policy/signing/replay-cache.js";
import {
  verifySignature,
  type SignaturePolicyOptions,
} from "../../../src/policy/signing/verify-signature.js";
import { MlsdmError } from "../../../src/telemetry/errors/index.js";
import { logger } from "../../../src/telemetry/logger.js";
import { policyContext } from "../support/handler-context.js";

const NOW = 1_750_000_000_000;
const K1 = { keyId: "k1", secret: "first-secret-0123456789" };
const K2 = { keyId: "k2", secret: "second-secret-0123456789" };
const generate = EngineService.method.generate;
const request = create(GenerateRequestSchema, { prompt: "hello", maxTokens: 12 });
const caller: Identity = { id: "w", owner: "", roles: ["write"], source: "api_key" };

function context(method: DescMethod, headers: Record<string, string>, identity: Identity = caller) {
  return policyContext({ method, headers, identity });
}

function policy(overrides: Partial<SignaturePolicyOptions> = {}) {
  return verifySignature({
    keys: () =>
      new Map([
        [K1.keyId, Buffer.from(K1.secret)],
        [K2.keyId, Buffer.from(K2.secret)],
      ]),
    required: true,
    maxAgeSeconds: 300,
    clockSkewSeconds: 30,
    replayCache: new MemoryReplayCache({ now: () => NOW }),
    now: () => NOW,
    ...overrides,
  });
}

function signed(at = NOW, key = K1, message: typeof request = request): Record<string, string> {
  return { ...signRequest(key, generate, GenerateRequestSchema, message, { now: () => at }) };
}

async function codeOf(pending: void | Promise<void>): Promise<string | undefined> {
  try {
    await pending;
    return undefined;
  } catch (error) {
    if (!(error instanceof MlsdmError)) throw error;
    return error.entry.code;
  }
}

describe("x-mlsdm-signature parsing", () => {
  const sig = "k0Vl30C8yczQRNAVsyoUKwJABIBq/mHXEOuEJNTKido=";
  it("accepts both orders and spaces after the comma", () => {
    expect(parseSignatureHeader(`timestamp=17,signature=${sig}`)?.timestamp).toBe(17);
    expect(parseSignatureHeader(`signature=${sig}, timestamp=17`)?.signatureBase64).toBe(sig);
    expect(parseSignatureHeader(`timestamp=17,signature=${sig}`)?.signature).toHaveLength(32);
  });
  it.each([
    ["empty", ""],
    ["timestamp only", "timestamp=17"],
    ["signature only", `signature=${sig}`],
    ["repeated part", `timestamp=17,timestamp=18,signature=${sig}`],
    ["extra part", `timestamp=17,signature=${sig},nonce=1`],
    ["negative timestamp", `timestamp=-17,signature=${sig}`],
    ["fractional timestamp", `timestamp=17.5,signature=${sig}`],
    ["leading zero", `timestamp=017,signature=${sig}`],
    ["unpadded base64", `timestamp=17,signature=${sig.slice(0, -1)}`],
    ["base64url", `timestamp=17,signature=${sig.replace("/", "_")}`],
    ["non-canonical last character", `timestamp=17,signature=${sig.slice(0, 42)}p=`],
    ["16 bytes", `timestamp=17,signature=${Buffer.alloc(16).toString("base64")}`],
  ])("refuses %s", (_, value) => {
    expect(parseSignatureHeader(value)).toBeUndefined();
  });
});

describe("canonical string", () => {
  it("is path, timestamp and lowercase hex digest on three lines, no trailing newline", () => {
    expect(canonicalString("/a.B/C", 5, "ab")).toBe("/a.B/C\n5\nab");
  });
  it("signs the same bytes for a message and its plain init object", () => {
    const init = { prompt: "hello", maxTokens: 12 };
    expect(signRequest(K1, generate, GenerateRequestSchema, init, { now: () => NOW })).toEqual(signed());
  });
});

describe("signature policy", () => {
  let events: Record<string, unknown>[];
  beforeEach(() => {
    events = [];
    vi.spyOn(logger, "warn").mockImplementation(((_: string, fields: Record<string, unknown>) => {
      events.push(fields);
      return logger;
    }) as never);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("accepts a good signature with either of two key ids (rotation)", async () => {
    const check = policy();
    expect(await codeOf(check(context(generate, signed(NOW, K1)), request))).toBeUndefined();
    expect(await codeOf(check(context(generate, signed(NOW, K2)), request))).toBeUndefined();
    expect(events).toEqual([]);
  });

  it("refuses a missing signature with E207 when required, and logs the security event", async () => {
    expect(await codeOf(policy()(context(generate, {}), request))).toBe("E207");
    expect(events).toEqual([
      {
        event: "signature_failed",
        method: "Generate",
        identity_id: "w",
        key_id: "",
        error_code: "E207",
        reason: "missing",
      },
    ]);
  });

  it("requires a signature of an identity marked requireSignature only", async () => {
    const check = policy({ required: false });
    expect(await codeOf(check(context(generate, {}), request))).toBeUndefined();
    const strict: Identity = { ...caller, id: "strict", requireSignature: true };
    expect(await codeOf(check(context(generate, {}, strict), request))).toBe("E207");
    expect(await codeOf(check(context(generate, signed(), strict), request))).toBeUndefined();
  });

  it("verifies a signature that is sent even when none is required", async () => {
    const headers = { ...signed(), "x-mlsdm-key-id": "nobody" };
    expect(await codeOf(policy({ required: false })(context(generate, headers), request))).toBe("E207");
  });

  it.each([
    ["malformed header", { "x-mlsdm-key-id": "k1", "x-mlsdm-signature": "timestamp=1" }, "malformed"],
    ["key id missing", { "x-mlsdm-signature": signed()["x-mlsdm-signature"] ?? "" }, "malformed"],
    ["unknown key id", { ...signed(), "x-mlsdm-key-id": "k9" }, "unknown_key"],
    ["wrong secret", signed(NOW, { keyId: "k1", secret: "not-the-secret-0123456" }), "mismatch"],
    ["other key's id", { ...signed(NOW, K2), "x-mlsdm-key-id": "k1" }, "mismatch"],
  ])("refuses %s with E207", async (_, headers, reason) => {
    expect(await codeOf(policy()(context(generate, headers), request))).toBe("E207");
    expect(events[0]).toMatchObject({ error_code: "E207", reason });
  });

  it("refuses a signature over another message or method with E207", async () => {
    const other = create(GenerateRequestSchema, { prompt: "hellO", maxTokens: 12 });
    expect(await codeOf(policy()(context(generate, signed()), other))).toBe("E207");
    const headers = {
      ...signRequest(K1, EngineService.method.generateStream, GenerateRequestSchema, request),
    };
    expect(await codeOf(policy()(context(generate, headers), request))).toBe("E207");
  });

  it("accepts timestamps inside max age plus skew, refuses older or future ones with E208", async () => {
    const check = policy();
    expect(await codeOf(check(context(generate, signed(NOW - 330_000)), request))).toBeUndefined();
    expect(await codeOf(check(context(generate, signed(NOW + 30_000)), request))).toBeUndefined();
    expect(await codeOf(check(context(generate, signed(NOW - 331_000)), request))).toBe("E208");
    expect(await codeOf(check(context(generate, signed(NOW + 31_000)), request))).toBe("E208");
    expect(events.map((e) => e.reason)).toEqual(["stale", "future"]);
  });

  it("refuses an exact replay with E209, also with the key id spelled the same", async () => {
    const check = policy();
    const headers = signed();
    expect(await codeOf(check(context(generate, headers), request))).toBeUndefined();
    expect(await codeOf(check(context(generate, headers), request))).toBe("E209");
    expect(await codeOf(check(context(generate, signed(NOW + 1000)), request))).toBeUndefined();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ error_code: "E209", key_id: "k1", reason: "replayed" });
  });

  it("remembers a signature until its timestamp leaves the window", async () => {
    const seen: [string, number][] = [];
    const cache: ReplayCache = {
      remember: (id, ttl) => {
        seen.push([id, ttl]);
        return Promise.resolve(true);
      },
    };
    const headers = signed(NOW - 100_000);
    await policy({ replayCache: cache })(context(generate, headers), request);
    const signature = /signature=(.+)$/.exec(headers["x-mlsdm-signature"] ?? "")?.[1];
    expect(seen).toEqual([[`k1:${signature}`, (300 + 30 + 1) * 1000 - 100_000]]);
  });

  it("fails closed when the replay cache fails (E711) or refuses (its own error)", async () => {
    const broken: ReplayCache = { remember: () => Promise.reject(new Error("redis down")) };
    expect(await codeOf(policy({ replayCache: broken })(context(generate, signed()), request))).toBe("E711");
    const full = new MemoryReplayCache({ maxEntries: 1, now: () => NOW });
    await full.remember("other", 60_000);
    expect(await codeOf(policy({ replayCache: full })(context(generate, signed()), request))).toBe("E702");
    expect(events.map((e) => e.reason)).toEqual(["cache_unavailable", "cache_refused"]);
  });

  it("never logs the secret or the signature", async () => {
    await codeOf(
      policy()(context(generate, signed(NOW, { keyId: "k1", secret: "leaky-secret-0123456789" })), request),
    );
    const text = JSON.stringify(events);
    expect(text).not.toContain("leaky-secret");
    expect(text).not.toContain("signature=");
  });
});

describe("memory replay cache", () => {
  it("answers false inside the ttl and true again after it", async () => {
    let now = 0;
    const cache = new MemoryReplayCache({ now: () => now });
    expect(await cache.remember("a", 1000)).toBe(true);
    expect(await cache.remember("a", 1000)).toBe(false);
    now = 1000;
    expect(await cache.remember("a", 1000)).toBe(true);
  });

  it("is bounded: sweeps expired entries, then refuses new ids at the cap with RetryInfo", async () => {
    let now = 0;
    const cache = new MemoryReplayCache({ maxEntries: 3, now: () => now });
    for (const id of ["a", "b", "c"]) expect(await cache.remember(id, 5000)).toBe(true);
    const refused = await cache.remember("d", 5000).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(MlsdmError);
    expect((refused as MlsdmError).entry.code).toBe("E702");
    expect((refused as MlsdmError).retryDelayMs).toBe(5000);
    expect(await cache.remember("a", 5000)).toBe(false); // a known id is still answered
    now = 5000;
    expect(await cache.remember("d", 5000)).toBe(true);
    expect(cache.size).toBe(1);
  });

  it("sweeps expired entries as time passes, not only at the cap", async () => {
    let now = 0;
    const cache = new MemoryReplayCache({ now: () => now });
    for (let i = 0; i < 100; i++) await cache.remember(`id${i}`, 1000);
    now = 20_000;
    await cache.remember("late", 1000);
    expect(cache.size).toBe(1);
  });
});
