/**
 * The local stub model: the original text rules (prefix, preview, max_tokens suffix, truncation), determinism,
 * streaming that concatenates to the generated text, usage estimates and cancellation.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createStubProvider, stubText, wordDeltas } from "../../src/providers/llm/stub-provider.js";
import { drain, failureOf, modelCall } from "./support/model-call.js";

const codePoints = (text: string): number => Array.from(text).length;

describe("stub provider text", () => {
  it("follows the original rules", () => {
    expect(stubText("Hello world", 10)).toBe("NEURO-RESPONSE: Hello world");
    expect(stubText("x".repeat(80), 50)).toBe(`NEURO-RESPONSE: ${"x".repeat(50)}`);
    expect(stubText("Hi", 100)).toBe(
      "NEURO-RESPONSE: Hi [Generated with max_tokens=100]. This is a stub response from the local adapter. " +
        "It demonstrates the NeuroCognitiveEngine pipeline without requiring external API calls.",
    );
    expect(stubText("Hello world", 2)).toBe("NEURO-RE");
    expect(stubText("Hello world", 2)).toHaveLength(8);
  });

  it("is deterministic, prefixed and at most 4·max_tokens code points", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme", maxLength: 200 }),
        fc.integer({ min: 1, max: 4096 }),
        (prompt, max) => {
          const text = stubText(prompt, max);
          expect(stubText(prompt, max)).toBe(text);
          expect(codePoints(text)).toBeLessThanOrEqual(4 * max);
          const prefix = `NEURO-RESPONSE: ${Array.from(prompt).slice(0, 50).join("")}`;
          expect(prefix.startsWith(text) || text.startsWith(prefix)).toBe(true);
        },
      ),
    );
  });

  it("splits into word deltas that concatenate back", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 100 }), (text) => {
        expect(wordDeltas(text).join("")).toBe(text);
      }),
    );
  });
});

describe("stub provider", () => {
  it("has id local_stub by default, or the configured one", () => {
    expect(createStubProvider().id).toBe("local_stub");
    expect(createStubProvider({ id: "stub_b" }).id).toBe("stub_b");
  });

  it("generates the stub text with estimated usage", async () => {
    const reply = await createStubProvider().generate(modelCall({ prompt: "abcdefgh", maxTokens: 10 }));
    expect(reply.text).toBe("NEURO-RESPONSE: abcdefgh");
    expect(reply.usage).toEqual({ inputTokens: 2, outputTokens: Math.ceil(24 / 4) });
  });

  it("streams word deltas whose concatenation equals the generated text", async () => {
    const provider = createStubProvider();
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 120 }),
        fc.integer({ min: 1, max: 200 }),
        async (prompt, max) => {
          const call = modelCall({ prompt, maxTokens: max });
          const reply = await provider.generate(call);
          const stream = await provider.stream(call);
          const deltas = await drain(stream);
          expect(deltas.join("")).toBe(reply.text);
          expect(deltas.every((delta) => delta.length > 0)).toBe(true);
          expect(stream.usage()).toEqual(reply.usage);
        },
      ),
      { numRuns: 50 },
    );
  });

  it("yields several deltas for a multi-word answer", async () => {
    const stream = await createStubProvider().stream(modelCall({ prompt: "one two three", maxTokens: 100 }));
    const deltas = await drain(stream);
    expect(deltas.length).toBeGreaterThan(5);
    expect(deltas[0]).toBe("NEURO-RESPONSE: ");
  });

  it("rejects with cancelled when the signal already fired", async () => {
    const provider = createStubProvider();
    const call = modelCall({ signal: AbortSignal.abort() });
    expect((await failureOf(provider.generate(call))).failure.kind).toBe("cancelled");
    expect((await failureOf(provider.stream(call))).failure.kind).toBe("cancelled");
  });

  it("reports timeout when the deadline signal fired", async () => {
    const controller = new AbortController();
    controller.abort(new DOMException("deadline", "TimeoutError"));
    const { failure } = await failureOf(
      createStubProvider().generate(modelCall({ signal: controller.signal })),
    );
    expect(failure.kind).toBe("timeout");
  });

  it("stops a delayed stream when the caller aborts mid-way", async () => {
    const controller = new AbortController();
    const provider = createStubProvider({ delayMs: 20 });
    const stream = await provider.stream(modelCall({ signal: controller.signal, maxTokens: 100 }));
    const iterator = stream.deltas[Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false);
    const pending = iterator.next();
    controller.abort();
    const { failure } = await failureOf(pending);
    expect(failure).toMatchObject({ kind: "cancelled", details: { providerId: "local_stub" } });
  });

  it("times out a delayed stream at the deadline", async () => {
    const provider = createStubProvider({ delayMs: 50 });
    const stream = await provider.stream(modelCall({ signal: AbortSignal.timeout(80), maxTokens: 100 }));
    const { failure } = await failureOf(drain(stream));
    expect(failure.kind).toBe("timeout");
  });
});
