/**
 * The OpenAPI 3.1 document of the Connect JSON surface (DOC-003), built from the contract's
 * descriptors and their comments. Pure and deterministic: the same files give the same document,
 * in descriptor order.
 *
 * Shape: one POST path per RPC at `/<package.Service>/<Method>` whose JSON request and response
 * schemas follow the proto3 JSON mapping (lowerCamel names, 64-bit integers as strings, enums as
 * value names, well-known types in their JSON forms, oneof members as mutually exclusive
 * properties); errors are the Connect error body. The role each RPC needs, read from
 * `(mlsdm.v1.required_role)`, is in `x-mlsdm-role`. Streaming RPCs are listed too, marked with
 * `x-mlsdm-streaming`: Connect frames every stream message in an envelope, so they are not plain
 * JSON and need a Connect, gRPC-Web or gRPC client.
 */
import {
  getOption,
  hasOption,
  ScalarType,
  type DescEnum,
  type DescField,
  type DescFile,
  type DescMessage,
  type DescMethod,
} from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { getComments } from "@bufbuild/protoplugin";
import { Role, required_role } from "../gen/mlsdm/v1/options_pb.js";

type Schema = Record<string, unknown>;

/** Services served without a credential: the standard health protocol (no role option). */
const PUBLIC_SERVICES = new Set(["grpc.health.v1.Health"]);

/** The Connect error body (connectrpc.com/docs/protocol#error-end-stream). */
const CONNECT_ERROR: Schema = {
  type: "object",
  description:
    "Connect error body. `details` carries google.rpc.ErrorInfo (reason = UPPER_SNAKE name, domain mlsdm.dev, metadata.code = the E-number of docs/errors.md) and, where a retry helps, google.rpc.RetryInfo.",
  required: ["code"],
  properties: {
    code: {
      type: "string",
      description: "Connect error code (the gRPC status in snake_case).",
      enum: [
        "canceled",
        "unknown",
        "invalid_argument",
        "deadline_exceeded",
        "not_found",
        "already_exists",
        "permission_denied",
        "resource_exhausted",
        "failed_precondition",
        "aborted",
        "out_of_range",
        "unimplemented",
        "internal",
        "unavailable",
        "data_loss",
        "unauthenticated",
      ],
    },
    message: { type: "string", description: "What went wrong and what to do, for people." },
    details: {
      type: "array",
      description: "Error details, each a protobuf message.",
      items: {
        type: "object",
        required: ["type", "value"],
        properties: {
          type: {
            type: "string",
            description: "Fully-qualified message name, for example google.rpc.ErrorInfo.",
          },
          value: { type: "string", contentEncoding: "base64", description: "The message, binary, base64." },
          debug: { type: "object", description: "The message in its JSON form (informational)." },
        },
      },
    },
  },
};

/** JSON forms of the well-known types (protobuf.dev/programming-guides/json). */
const WELL_KNOWN: Record<string, Schema> = {
  "google.protobuf.Timestamp": { type: "string", format: "date-time", description: "RFC 3339, UTC." },
  "google.protobuf.Duration": {
    type: "string",
    pattern: "^-?[0-9]+(\\.[0-9]{1,9})?s$",
    description: 'Seconds with a trailing "s", for example "1.5s".',
  },
  "google.protobuf.Empty": { type: "object" },
  "google.protobuf.Struct": { type: "object", additionalProperties: true },
  "google.protobuf.Value": { description: "Any JSON value." },
  "google.protobuf.ListValue": { type: "array", items: {} },
  "google.protobuf.FieldMask": { type: "string", description: "Comma-separated lowerCamel paths." },
  "google.protobuf.Any": {
    type: "object",
    required: ["@type"],
    properties: { "@type": { type: "string" } },
    additionalProperties: true,
  },
  "google.protobuf.DoubleValue": { type: "number" },
  "google.protobuf.FloatValue": { type: "number" },
  "google.protobuf.Int64Value": { type: "string", format: "int64" },
  "google.protobuf.UInt64Value": { type: "string", format: "uint64" },
  "google.protobuf.Int32Value": { type: "integer", format: "int32" },
  "google.protobuf.UInt32Value": { type: "integer", format: "uint32" },
  "google.protobuf.BoolValue": { type: "boolean" },
  "google.protobuf.StringValue": { type: "string" },
  "google.protobuf.BytesValue": { type: "string", contentEncoding: "base64" },
};

function scalarSchema(scalar: ScalarType): Schema {
  switch (scalar) {
    case ScalarType.DOUBLE:
      return { type: "number", format: "double" };
    case ScalarType.FLOAT:
      return { type: "number", format: "float" };
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return { type: "string", format: "int64", pattern: "^-?[0-9]+$" };
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return { type: "string", format: "uint64", pattern: "^[0-9]+$" };
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return { type: "integer", format: "int32" };
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return { type: "integer", format: "uint32", minimum: 0 };
    case ScalarType.BOOL:
      return { type: "boolean" };
    case ScalarType.STRING:
      return { type: "string" };
    case ScalarType.BYTES:
      return { type: "string", contentEncoding: "base64" };
  }
}

/** A comment as a description: leading comment, trimmed, indentation of examples kept. */
function describe(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const lines = text.split("\n").map((line) => (line.startsWith(" ") ? line.slice(1) : line));
  const joined = lines.join("\n").trim();
  return joined === "" ? undefined : joined;
}

function ref(typeName: string): Schema {
  return { $ref: `#/components/schemas/${typeName}` };
}

/** Collects the component schemas of messages and enums reachable from the RPCs. */
class Components {
  readonly schemas = new Map<string, Schema>();

  message(message: DescMessage): Schema {
    const wellKnown = WELL_KNOWN[message.typeName];
    if (wellKnown) return wellKnown;
    if (!this.schemas.has(message.typeName)) {
      this.schemas.set(message.typeName, {}); // placeholder first: recursive messages
      this.schemas.set(message.typeName, this.messageSchema(message));
    }
    return ref(message.typeName);
  }

  enum(desc: DescEnum): Schema {
    if (desc.typeName === "google.protobuf.NullValue") return { type: "null" };
    if (!this.schemas.has(desc.typeName)) {
      const lines = desc.values.map((value) => {
        const note = describe(getComments(value).leading)?.replace(/\s+/g, " ");
        return `- \`${value.name}\`${note ? `: ${note}` : ""}`;
      });
      const summary = describe(getComments(desc).leading);
      this.schemas.set(desc.typeName, {
        type: "string",
        enum: desc.values.map((value) => value.name),
        description: [summary, "Values (the number is accepted too):", ...lines]
          .filter((part) => part !== undefined)
          .join("\n"),
      });
    }
    return ref(desc.typeName);
  }

  private fieldValue(field: DescField): Schema {
    switch (field.fieldKind) {
      case "scalar":
        return scalarSchema(field.scalar);
      case "enum":
        return this.enum(field.enum);
      case "message":
        return this.message(field.message);
      case "list": {
        const items =
          field.listKind === "scalar"
            ? scalarSchema(field.scalar)
            : field.listKind === "enum"
              ? this.enum(field.enum)
              : this.message(field.message);
        return { type: "array", items };
      }
      case "map": {
        const values =
          field.mapKind === "scalar"
            ? scalarSchema(field.scalar)
            : field.mapKind === "enum"
              ? this.enum(field.enum)
              : this.message(field.message);
        return { type: "object", additionalProperties: values };
      }
    }
  }

  private messageSchema(message: DescMessage): Schema {
    const properties: Record<string, Schema> = {};
    for (const field of message.fields) {
      const value = this.fieldValue(field);
      const notes = [describe(getComments(field).leading)];
      const oneof = field.oneof;
      if (oneof && !field.proto.proto3Optional) {
        const others = oneof.fields.filter((other) => other !== field).map((other) => other.jsonName);
        notes.push(`Member of oneof \`${oneof.name}\`: set at most one of this and ${others.join(", ")}.`);
      }
      const description = notes.filter((note) => note !== undefined).join("\n\n");
      // $ref siblings are allowed in 3.1; keep a ref bare inside allOf-free form.
      properties[field.jsonName] = description === "" ? value : { ...value, description };
    }
    const schema: Schema = { type: "object", additionalProperties: false, properties };
    const description = describe(getComments(message).leading);
    if (description !== undefined) schema.description = description;
    const oneofs = message.oneofs.filter((oneof) => !oneof.fields.some((f) => f.proto.proto3Optional));
    if (oneofs.length > 0) {
      schema["x-mlsdm-oneofs"] = Object.fromEntries(
        oneofs.map((oneof) => [oneof.name, oneof.fields.map((f) => f.jsonName)]),
      );
    }
    return schema;
  }
}

function roleOf(method: DescMethod): string | undefined {
  if (PUBLIC_SERVICES.has(method.parent.typeName)) return "public";
  if (!hasOption(method, required_role)) return undefined;
  const role = getOption(method, required_role);
  return Role[role].toLowerCase();
}

function operation(method: DescMethod, components: Components): Schema {
  const service = method.parent;
  const role = roleOf(method);
  const streaming = method.methodKind !== "unary";
  const mediaType = streaming ? "application/connect+json" : "application/json";
  const notes = [describe(getComments(method).leading)];
  if (role !== undefined) notes.push(`Required role: \`${role}\`.`);
  if (streaming) {
    notes.push(
      `Streaming RPC (${method.methodKind.replace("_", " ")}): over Connect each message is sent in an envelope ` +
        "(1 flag byte, 4 length bytes, then the JSON message) with content type application/connect+json, so it " +
        "is not plain JSON. Use a Connect, gRPC-Web or gRPC client; the schemas below are those of one message.",
    );
  }
  if (method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS) {
    notes.push("Has no side effects: Connect clients may also call it with HTTP GET.");
  }
  const op: Schema = {
    operationId: `${service.name}_${method.name}`,
    summary: `${service.name}.${method.name}`,
    description: notes.filter((note) => note !== undefined).join("\n\n"),
    tags: [service.typeName],
    security: role === "public" ? [] : [{ bearerAuth: [] }],
    requestBody: {
      required: true,
      content: { [mediaType]: { schema: components.message(method.input) } },
    },
    responses: {
      "200": {
        description: streaming ? "The response stream (schema of one message)." : "The response message.",
        content: { [mediaType]: { schema: components.message(method.output) } },
      },
      "4XX": { $ref: "#/components/responses/ConnectError" },
      "5XX": { $ref: "#/components/responses/ConnectError" },
    },
  };
  if (role !== undefined) op["x-mlsdm-role"] = role;
  if (streaming) op["x-mlsdm-streaming"] = method.methodKind;
  return op;
}

/** Options of the document. */
export interface OpenApiOptions {
  readonly title: string;
  readonly version: string;
  readonly serverUrl: string;
}

/** Builds the OpenAPI 3.1 document for every service of `files`, in descriptor order. */
export function buildOpenApi(files: readonly DescFile[], options: OpenApiOptions): Schema {
  const components = new Components();
  const paths: Record<string, Schema> = {};
  const tags: Schema[] = [];
  for (const file of files) {
    for (const service of file.services) {
      tags.push({
        name: service.typeName,
        description: describe(getComments(service).leading) ?? service.typeName,
      });
      for (const method of service.methods) {
        paths[`/${service.typeName}/${method.name}`] = { post: operation(method, components) };
      }
    }
  }
  const schemas = Object.fromEntries(
    [...components.schemas.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  return {
    openapi: "3.1.0",
    info: {
      title: options.title,
      version: options.version,
      description:
        "The Connect (HTTP/JSON) surface of MLSDM, generated from the protobuf contract in proto/ " +
        "(do not edit: run `npm run generate`). Every RPC is a POST of a JSON body to " +
        "/<package.Service>/<Method> with Content-Type application/json; the same RPCs are served " +
        "over gRPC and gRPC-Web. Authenticate with `Authorization: Bearer <api key or JWT>`.",
      license: { name: "Apache-2.0", identifier: "Apache-2.0" },
    },
    servers: [{ url: options.serverUrl, description: "The HTTP (Connect) listener on its default port." }],
    tags,
    paths,
    components: {
      securitySchemes: {
        bearerAuth: {
          type: "http",
          scheme: "bearer",
          description:
            "An API key or an OIDC JWT. A server with no identity source on a loopback address serves anonymous calls as admin.",
        },
      },
      responses: {
        ConnectError: {
          description: "An error: HTTP status from the Connect code, body the Connect error.",
          content: { "application/json": { schema: ref("connect.error") } },
        },
      },
      schemas: { "connect.error": CONNECT_ERROR, ...schemas },
    },
  };
}
