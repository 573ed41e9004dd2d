import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HashingEmbedder } from "../../src/core/embedding/hashing-embedder.js";

const embedder = new HashingEmbedder();
const cosine = (a: Float32Array, b: Float32Array): number =>
  a.reduce((sum, x, i) => sum + x * (b[i] ?? 0), 0);
const norm = (v: Float32Array): number => Math.sqrt(cosine(v, v));

describe("HashingEmbedder", () => {
  it("is deterministic, of the configured dimension and unit length, never zero or NaN", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const a = embedder.embedSync(text);
        expect(a).toHaveLength(384);
        expect(Math.abs(norm(a) - 1)).toBeLessThan(1e-5);
        expect(a.every(Number.isFinite)).toBe(true);
        expect(embedder.embedSync(text)).toEqual(a);
      }),
    );
    for (const odd of ["", "!!!", "🙂🙂", "   "])
      expect(Math.abs(norm(embedder.embedSync(odd)) - 1)).toBeLessThan(1e-5);
    expect(new HashingEmbedder(17).embedSync("seventeen buckets")).toHaveLength(17);
  });

  it("places texts that share words closer than unrelated texts", () => {
    const pairs: [string, string, string][] = [
      ["why is the sky blue", "why is the sky so blue today", "how do volcanoes erupt"],
      ["explain photosynthesis briefly", "explain photosynthesis in detail", "list prime numbers below ten"],
      ["Rust ownership and borrowing", "ownership and borrowing in Rust", "baking sourdough bread at home"],
    ];
    for (const [a, near, far] of pairs) {
      const va = embedder.embedSync(a);
      expect(cosine(va, embedder.embedSync(near))).toBeGreaterThan(cosine(va, embedder.embedSync(far)));
    }
  });

  it("changing one word of many keeps a text closer than a text with no word in common", () => {
    const word = fc.stringMatching(/^[a-z]{3,8}$/);
    fc.assert(
      fc.property(fc.uniqueArray(word, { minLength: 16, maxLength: 16 }), (words) => {
        const base = words.slice(0, 8);
        const changed = [...base.slice(0, 7), words[8] ?? "x"];
        const other = words.slice(8, 16);
        const v = embedder.embedSync(base.join(" "));
        expect(cosine(v, embedder.embedSync(changed.join(" ")))).toBeGreaterThan(
          cosine(v, embedder.embedSync(other.join(" "))),
        );
      }),
      { numRuns: 200 },
    );
  });

  it("stops when the call is cancelled", async () => {
    const abort = new AbortController();
    abort.abort();
    await expect(embedder.embed("x", abort.signal)).rejects.toMatchObject({ kind: "cancelled" });
  });
});
