/**
 * buildOpenApi (src/contract/openapi.ts) in-process: fed the committed `buf build` image
 * (docs/api/mlsdm.binpb, comments included), it gives the committed docs/api/openapi.yaml
 * exactly as the protoc plugin writes it (openapi.test.ts regenerates both with buf, in child
 * processes); and the mapping rules on descriptors built here: scalars, 64-bit integers as
 * strings, enums by name, maps, repeated fields, oneofs, well-known types, roles, streaming.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { create, createFileRegistry, fromBinary, type DescFile } from "@bufbuild/protobuf";
import {
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
  MethodOptions_IdempotencyLevel,
} from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { buildOpenApi } from "../../src/contract/openapi.js";
import { VERSION } from "../../src/version.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const image = fromBinary(FileDescriptorSetSchema, readFileSync(`${ROOT}docs/api/mlsdm.binpb`));
const committed = readFileSync(`${ROOT}docs/api/openapi.yaml`, "utf8");
const registry = createFileRegistry(image);
/** The files buf hands the plugin: those under proto/, in path order (not the imports). */
const own: DescFile[] = image.file
  .map((file) => file.name)
  .filter((name) => !name.startsWith("google/"))
  .sort()
  .map((name) => {
    const file = registry.getFile(name);
    if (!file) throw new Error(`${name} is not in the image`);
    return file;
  });
const OPTIONS = { title: "MLSDM Connect API", version: VERSION, serverUrl: "http://127.0.0.1:8080" };

type Schema = Record<string, unknown> & {
  properties?: Record<string, Schema>;
  oneOf?: Schema[];
  required?: string[];
};
interface Doc {
  tags: { name: string; description: string }[];
  paths: Record<string, { post: Record<string, unknown> }>;
  components: { schemas: Record<string, Schema> };
}

describe("buildOpenApi on the contract's own descriptors", () => {
  const document = buildOpenApi(own, OPTIONS);

  it("gives the committed openapi.yaml byte for byte (body after the two-line header)", () => {
    const body = stringify(document, { lineWidth: 0, aliasDuplicateObjects: false });
    const header = committed.split("\n").slice(0, 2).join("\n") + "\n";
    expect(header).toMatch(/^# The OpenAPI 3\.1 document/);
    expect(header + body).toBe(committed);
  });

  it("is deterministic and depends only on the files it is given", () => {
    expect(buildOpenApi(own, OPTIONS)).toEqual(document);
    const onlyHealth = buildOpenApi(
      own.filter((file) => file.name === "grpc/health/v1/health"),
      { ...OPTIONS, serverUrl: "https://example.test" },
    ) as unknown as Doc & { servers: { url: string }[] };
    const healthPaths = Object.keys((document as unknown as Doc).paths).filter((key) =>
      key.startsWith("/grpc.health.v1.Health/"),
    );
    expect(healthPaths.length).toBeGreaterThanOrEqual(2);
    expect(Object.keys(onlyHealth.paths)).toEqual(healthPaths);
    expect(onlyHealth.servers[0]?.url).toBe("https://example.test");
    expect(onlyHealth.tags.map((tag) => tag.name)).toEqual(["grpc.health.v1.Health"]);
    expect(buildOpenApi([], OPTIONS)).toMatchObject({ paths: {}, tags: [] });
  });

  it("reads roles, streaming kinds and comments from the descriptors", () => {
    const doc = document as unknown as Doc;
    const check = doc.paths["/grpc.health.v1.Health/Check"]?.post;
    expect(check).toBeDefined();
    expect(check?.["x-mlsdm-role"]).toBe("public");
    expect(check?.security).toEqual([]);
    const watch = doc.paths["/grpc.health.v1.Health/Watch"]?.post;
    expect(watch?.["x-mlsdm-streaming"]).toBe("server_streaming");
    const status = doc.paths["/mlsdm.v1.AdminService/GetStatus"]?.post;
    expect(status?.["x-mlsdm-role"]).toBe("admin");
    const engineTag = doc.tags.find((tag) => tag.name === "mlsdm.v1.EngineService");
    expect(engineTag?.description.length).toBeGreaterThan(20);
    expect(engineTag?.description).not.toBe("mlsdm.v1.EngineService");
  });
});

// A file built here, with what the contract does not use: every scalar type, maps and lists of
// each kind, oneofs and proto3 optional, recursion, client and bidi streaming, GET-able methods.
const T = FieldDescriptorProto_Type;
const L = FieldDescriptorProto_Label;
const scalarFields: [string, FieldDescriptorProto_Type][] = [
  ["d", T.DOUBLE],
  ["f", T.FLOAT],
  ["i64", T.INT64],
  ["s64", T.SINT64],
  ["sf64", T.SFIXED64],
  ["u64", T.UINT64],
  ["fx64", T.FIXED64],
  ["i32", T.INT32],
  ["s32", T.SINT32],
  ["sf32", T.SFIXED32],
  ["u32", T.UINT32],
  ["fx32", T.FIXED32],
  ["b", T.BOOL],
  ["s", T.STRING],
  ["by", T.BYTES],
];
const field = (
  name: string,
  number: number,
  type: FieldDescriptorProto_Type,
  extra: Record<string, unknown> = {},
) => ({
  name,
  jsonName: name.replace(/_(\w)/g, (_m, c: string) => c.toUpperCase()),
  number,
  type,
  label: L.OPTIONAL,
  ...extra,
});
const entry = (name: string, valueType: FieldDescriptorProto_Type, typeName?: string) => ({
  name,
  field: [
    field("key", 1, T.STRING),
    field("value", 2, valueType, typeName === undefined ? {} : { typeName }),
  ],
  options: { mapEntry: true },
});
const kitchenFile = create(FileDescriptorProtoSchema, {
  name: "test/v1/kitchen.proto",
  package: "test.v1",
  syntax: "proto3",
  dependency: ["google/protobuf/timestamp.proto", "google/protobuf/duration.proto"],
  enumType: [
    {
      name: "Color",
      value: [
        { name: "COLOR_UNSPECIFIED", number: 0 },
        { name: "COLOR_RED", number: 1 },
      ],
    },
  ],
  messageType: [
    {
      name: "Kitchen",
      field: [
        ...scalarFields.map(([name, type], i) => field(name, i + 1, type)),
        field("colors", 20, T.ENUM, { label: L.REPEATED, typeName: ".test.v1.Color" }),
        field("children", 21, T.MESSAGE, { label: L.REPEATED, typeName: ".test.v1.Kitchen" }),
        field("tags", 22, T.STRING, { label: L.REPEATED }),
        field("counts", 23, T.MESSAGE, { label: L.REPEATED, typeName: ".test.v1.Kitchen.CountsEntry" }),
        field("by_color", 24, T.MESSAGE, { label: L.REPEATED, typeName: ".test.v1.Kitchen.ByColorEntry" }),
        field("rooms", 25, T.MESSAGE, { label: L.REPEATED, typeName: ".test.v1.Kitchen.RoomsEntry" }),
        field("at", 26, T.MESSAGE, { typeName: ".google.protobuf.Timestamp" }),
        field("ttl", 27, T.MESSAGE, { typeName: ".google.protobuf.Duration" }),
        field("by_name", 28, T.STRING, { oneofIndex: 0 }),
        field("by_id", 29, T.INT64, { oneofIndex: 0 }),
        field("maybe", 30, T.INT32, { oneofIndex: 1, proto3Optional: true }),
        field("color", 31, T.ENUM, { typeName: ".test.v1.Color" }),
      ],
      nestedType: [
        entry("CountsEntry", T.INT64),
        entry("ByColorEntry", T.ENUM, ".test.v1.Color"),
        entry("RoomsEntry", T.MESSAGE, ".test.v1.Kitchen"),
      ],
      oneofDecl: [{ name: "key" }, { name: "_maybe" }],
    },
  ],
  service: [
    {
      name: "KitchenService",
      method: [
        {
          name: "Look",
          inputType: ".test.v1.Kitchen",
          outputType: ".test.v1.Kitchen",
          options: { idempotencyLevel: MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS },
        },
        {
          name: "Fill",
          inputType: ".test.v1.Kitchen",
          outputType: ".test.v1.Kitchen",
          clientStreaming: true,
        },
        {
          name: "Chat",
          inputType: ".test.v1.Kitchen",
          outputType: ".test.v1.Kitchen",
          clientStreaming: true,
          serverStreaming: true,
        },
      ],
    },
  ],
});

describe("buildOpenApi mapping rules on a descriptor built in the test", () => {
  const wkt = image.file.filter((file) => file.name.startsWith("google/protobuf/"));
  const kitchen = createFileRegistry(
    create(FileDescriptorSetSchema, { file: [...wkt, kitchenFile] }),
  ).getFile("test/v1/kitchen.proto");
  if (!kitchen) throw new Error("the kitchen file did not load");
  const doc = buildOpenApi([kitchen], OPTIONS) as unknown as Doc;
  const schema = doc.components.schemas["test.v1.Kitchen"];
  const props = schema?.properties ?? {};

  it("maps every scalar type to its proto3 JSON form", () => {
    expect(props.d).toEqual({ type: "number", format: "double" });
    expect(props.f).toEqual({ type: "number", format: "float" });
    for (const name of ["i64", "s64", "sf64"]) {
      expect([name, props[name]]).toEqual([name, { type: "string", format: "int64", pattern: "^-?[0-9]+$" }]);
    }
    for (const name of ["u64", "fx64"]) {
      expect([name, props[name]]).toEqual([name, { type: "string", format: "uint64", pattern: "^[0-9]+$" }]);
    }
    for (const name of ["i32", "s32", "sf32"])
      expect([name, props[name]]).toEqual([name, { type: "integer", format: "int32" }]);
    for (const name of ["u32", "fx32"]) {
      expect([name, props[name]]).toEqual([name, { type: "integer", format: "uint32", minimum: 0 }]);
    }
    expect(props.b).toEqual({ type: "boolean" });
    expect(props.s).toEqual({ type: "string" });
    expect(props.by).toEqual({ type: "string", contentEncoding: "base64" });
  });

  it("maps lists, maps, enums, well-known types and recursion", () => {
    expect(props.colors).toEqual({ type: "array", items: { $ref: "#/components/schemas/test.v1.Color" } });
    expect(props.children).toEqual({
      type: "array",
      items: { $ref: "#/components/schemas/test.v1.Kitchen" },
    });
    expect(props.tags).toEqual({ type: "array", items: { type: "string" } });
    expect(props.counts).toEqual({
      type: "object",
      additionalProperties: { type: "string", format: "int64", pattern: "^-?[0-9]+$" },
    });
    expect(props.byColor).toEqual({
      type: "object",
      additionalProperties: { $ref: "#/components/schemas/test.v1.Color" },
    });
    expect(props.rooms).toEqual({
      type: "object",
      additionalProperties: { $ref: "#/components/schemas/test.v1.Kitchen" },
    });
    expect(props.at).toMatchObject({ type: "string", format: "date-time" });
    expect(props.ttl).toMatchObject({ type: "string", pattern: expect.stringContaining("s$") });
    expect(doc.components.schemas["test.v1.Color"]).toMatchObject({
      type: "string",
      enum: ["COLOR_UNSPECIFIED", "COLOR_RED"],
      description: expect.stringContaining("- `COLOR_RED`"),
    });
    // Map entries and well-known types are not components of their own.
    expect(Object.keys(doc.components.schemas).sort()).toEqual([
      "connect.error",
      "test.v1.Color",
      "test.v1.Kitchen",
    ]);
  });

  it("notes oneof members (not proto3 optional) and lists the oneofs", () => {
    expect(props.byName?.description).toBe("Member of oneof `key`: set at most one of this and byId.");
    expect(props.byId?.description).toBe("Member of oneof `key`: set at most one of this and byName.");
    expect(props.maybe).toEqual({ type: "integer", format: "int32" });
    expect(schema?.["x-mlsdm-oneofs"]).toEqual({ key: ["byName", "byId"] });
    expect(schema?.additionalProperties).toBe(false);
  });

  it("marks streaming kinds, GET-able methods, and methods without a role", () => {
    const look = doc.paths["/test.v1.KitchenService/Look"]?.post;
    expect(look?.description).toContain("Has no side effects");
    expect(look?.["x-mlsdm-role"]).toBeUndefined();
    expect(look?.security).toEqual([{ bearerAuth: [] }]);
    expect(look?.requestBody).toMatchObject({ content: { "application/json": {} } });
    const fill = doc.paths["/test.v1.KitchenService/Fill"]?.post;
    expect(fill?.["x-mlsdm-streaming"]).toBe("client_streaming");
    expect(fill?.description).toContain("Streaming RPC (client streaming)");
    expect(fill?.requestBody).toMatchObject({ content: { "application/connect+json": {} } });
    expect(doc.paths["/test.v1.KitchenService/Chat"]?.post["x-mlsdm-streaming"]).toBe("bidi_streaming");
    // No comment on the service: its name is the tag's description.
    expect(doc.tags).toEqual([{ name: "test.v1.KitchenService", description: "test.v1.KitchenService" }]);
  });
});
