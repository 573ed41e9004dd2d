import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BinaryReader, BinaryWriter, SnapshotFormatError } from "../../src/core/binary.js";

describe("binary snapshot format", () => {
  it("round-trips every value type across many buffer growths", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.double(), fc.string(), fc.float32Array({ maxLength: 300 })), {
          maxLength: 30,
        }),
        (rows) => {
          const writer = new BinaryWriter().section("TEST", 1);
          for (const [n, d, s, f] of rows)
            writer
              .u32(n % 2 ** 32)
              .u53(n)
              .f64(d)
              .string(s)
              .f32s(f)
              .bool(n % 2 === 0);
          const reader = new BinaryReader(writer.finish());
          expect(reader.section("TEST", [1])).toBe(1);
          for (const [n, d, s, f] of rows) {
            expect(reader.u32()).toBe(n % 2 ** 32);
            expect(reader.u53()).toBe(n);
            expect(Object.is(reader.f64(), d)).toBe(true);
            expect(reader.string()).toBe(s);
            expect(
              Buffer.from(reader.f32s(f.length).buffer).equals(
                Buffer.from(f.buffer, f.byteOffset, f.byteLength),
              ),
            ).toBe(true);
            expect(reader.bool()).toBe(n % 2 === 0);
          }
          expect(reader.done).toBe(true);
        },
      ),
    );
  });

  it("refuses truncated input, a wrong tag and an unknown version", () => {
    const bytes = new BinaryWriter().section("ABCD", 2).u32(7).finish();
    const short = new BinaryReader(bytes.subarray(0, 10));
    short.section("ABCD", [2]);
    expect(() => short.u32()).toThrow(SnapshotFormatError);
    expect(() => new BinaryReader(bytes).section("WXYZ", [2])).toThrow(/expected section WXYZ/);
    expect(() => new BinaryReader(bytes).section("ABCD", [1])).toThrow(/version 2 is not supported/);
  });
});
