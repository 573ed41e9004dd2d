/**
 * fast-check arbitraries for hostile requests: random bytes, and well-formed messages of any
 * contract type whose fields hold edge values (NaN and infinities, extreme integers, huge and
 * control-character strings, unknown enum numbers, 384-long vectors, invalid timestamps).
 * Built from the message descriptors, so every field of every request is covered as the
 * contract grows.
 */
import { create, type DescField, type DescMessage, type Message, ScalarType } from "@bufbuild/protobuf";
import fc from "fast-check";

const hostileString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.constantFrom("", " ", "\u0000", "\t\n\r", "../../etc/passwd", "'; DROP TABLE keys;--", "\u202e\u200b"),
  fc.constantFrom("a".repeat(5_000), "é".repeat(20_000), "\uD800"),
);

const hostileDouble = fc.oneof(
  fc.double(),
  fc.constantFrom(Number.NaN, Infinity, -Infinity, -0, Number.MAX_VALUE, Number.MIN_VALUE, 1e308),
);

function int32(signed: boolean): fc.Arbitrary<number> {
  return signed
    ? fc.oneof(fc.integer(), fc.constantFrom(-2147483648, 2147483647, 0, -1))
    : fc.oneof(fc.nat(), fc.constantFrom(4294967295, 0));
}

function int64(signed: boolean): fc.Arbitrary<bigint> {
  return signed
    ? fc.oneof(fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n), fc.constantFrom(-(2n ** 63n), 2n ** 63n - 1n))
    : fc.oneof(fc.bigInt(0n, 2n ** 64n - 1n), fc.constant(2n ** 64n - 1n));
}

function scalar(type: ScalarType): fc.Arbitrary<unknown> {
  switch (type) {
    case ScalarType.DOUBLE:
      return hostileDouble;
    case ScalarType.FLOAT:
      return fc.oneof(
        fc.float(),
        fc.constantFrom(Number.NaN, Infinity, -Infinity, -0, 3.4028234663852886e38),
      );
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return int32(true);
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return int32(false);
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return int64(true);
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return int64(false);
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.STRING:
      return hostileString;
    case ScalarType.BYTES:
      return fc.uint8Array({ maxLength: 64 });
  }
}

function single(field: DescField, depth: number): fc.Arbitrary<unknown> {
  switch (field.fieldKind) {
    case "scalar":
      return scalar(field.scalar);
    case "enum":
      return fc.oneof(fc.constantFrom(...field.enum.values.map((v) => v.number)), fc.integer());
    case "message":
      return hostileMessage(field.message, depth + 1);
    case "list":
      return list(field, depth);
    case "map":
      return fc.constant({});
  }
}

function list(field: DescField & { fieldKind: "list" }, depth: number): fc.Arbitrary<unknown[]> {
  const element: fc.Arbitrary<unknown> =
    field.listKind === "scalar"
      ? scalar(field.scalar)
      : field.listKind === "enum"
        ? fc.oneof(fc.constantFrom(...field.enum.values.map((v) => v.number)), fc.integer())
        : hostileMessage(field.message, depth + 1);
  const lengths = field.listKind === "scalar" ? [0, 1, 383, 384, 385] : [0, 1, 3];
  return fc.oneof(
    fc.array(element, { maxLength: 8 }),
    fc.constantFrom(...lengths).chain((n) => fc.array(element, { minLength: n, maxLength: n })),
  );
}

/** A message of type `desc` with a random subset of its fields set to hostile values. */
export function hostileMessage(desc: DescMessage, depth = 0): fc.Arbitrary<Message> {
  if (depth > 2) return fc.constant(create(desc));
  const parts: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of desc.fields) {
    if (field.oneof) continue;
    parts[field.localName] = single(field, depth);
  }
  for (const oneof of desc.oneofs) {
    parts[oneof.localName] = fc
      .constantFrom(...oneof.fields)
      .chain((field) => single(field, depth).map((value) => ({ case: field.localName, value })));
  }
  return fc
    .record(parts, { requiredKeys: [] })
    .map((init) => create(desc, init as Parameters<typeof create<DescMessage>>[1]));
}
