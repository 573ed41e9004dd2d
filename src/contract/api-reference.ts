/**
 * Renders `docs/api/reference.md` from the `.proto` comments (BASE-DOC-a): every service, every
 * method with its required role (`(mlsdm.v1.required_role)`), idempotency level and streaming
 * kind, every message with each field's number, JSON name, type, validation rules
 * (`(mlsdm.v1.rules)`) and comment, and every enum with its values.
 *
 * The generated TypeScript descriptors in src/gen carry no source info, so the comments come from
 * `buf build --as-file-descriptor-set` (which keeps source info), decoded with protobuf-es.
 * The output is formatted with Prettier, so `prettier --check` passes and the rendering is
 * deterministic; tests/docs/api-reference.test.ts fails when the committed file is stale.
 *
 * Usage (from the repository root):
 *   npx tsx src/contract/api-reference.ts --write   # rewrite docs/api/reference.md (npm run docs:api)
 *   npx tsx src/contract/api-reference.ts           # print the document to stdout
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  ScalarType,
  createFileRegistry,
  fromBinary,
  getOption,
  hasOption,
  type DescEnum,
  type DescField,
  type DescFile,
  type DescMessage,
  type DescMethod,
  type DescService,
} from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { getComments } from "@bufbuild/protoplugin";
import { format } from "prettier";
import { RoleSchema, required_role, rules, type FieldRules } from "../gen/mlsdm/v1/options_pb.js";

/** Where the rendered document lives, relative to the repository root. */
export const API_REFERENCE_PATH = "docs/api/reference.md";

/** The command that regenerates {@link API_REFERENCE_PATH}; quoted by the drift test. */
export const REGENERATE_COMMAND = "npm run docs:api";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** The contract's files (everything under proto/, imports such as descriptor.proto left out). */
export function loadContract(): DescFile[] {
  const bytes = execFileSync(
    resolve(root, "node_modules/.bin/buf"),
    ["build", "--as-file-descriptor-set", "-o", "-#format=binpb"],
    { cwd: root, maxBuffer: 64 * 1024 * 1024 },
  );
  const set = fromBinary(FileDescriptorSetSchema, new Uint8Array(bytes));
  const registry = createFileRegistry(set);
  const files: DescFile[] = [];
  for (const file of registry.files) {
    if (!file.name.startsWith("google/")) files.push(file);
  }
  return files.sort((a, b) => a.name.localeCompare(b.name));
}

type Described = DescService | DescMethod | DescMessage | DescField | DescEnum | DescEnum["values"][number];

/** The leading comment as markdown: indented lines (command examples) become ```sh blocks. */
function prose(desc: Described): string {
  const text = getComments(desc).leading ?? "";
  const lines = text.replace(/\n$/, "").split("\n");
  const out: string[] = [];
  let code: string[] = [];
  const flush = (): void => {
    if (code.length === 0) return;
    const indent = Math.min(...code.filter((l) => l.trim()).map((l) => /^ */.exec(l)?.[0].length ?? 0));
    out.push("```sh", ...code.map((l) => l.slice(indent)), "```");
    code = [];
  };
  for (const raw of lines) {
    const line = raw.startsWith(" ") ? raw.slice(1) : raw;
    if (/^ {2,}\S/.test(line)) {
      code.push(line);
      continue;
    }
    if (line.trim() === "" && code.length > 0) {
      flush();
      out.push("");
      continue;
    }
    flush();
    out.push(line);
  }
  flush();
  return out.join("\n").trim();
}

/** The comment on one line, for a table cell. */
function cellText(desc: Described): string {
  const text = (getComments(desc).leading ?? "").trim();
  return text
    .split("\n")
    .map((l) => l.trim())
    .join(" ")
    .replaceAll("|", "\\|");
}

/** GitHub's heading anchor for a heading text (lowercase, punctuation dropped, spaces → "-"). */
export function anchorOf(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, "")
    .replace(/ /g, "-");
}

function link(desc: DescMessage | DescEnum): string {
  if (desc.file.name.startsWith("google/")) return `\`${desc.typeName}\``;
  return `[\`${desc.typeName}\`](#${anchorOf(desc.typeName)})`;
}

function scalarName(scalar: ScalarType): string {
  return ScalarType[scalar].toLowerCase();
}

function fieldType(field: DescField): string {
  switch (field.fieldKind) {
    case "scalar":
      return `${field.proto.proto3Optional ? "optional " : ""}${scalarName(field.scalar)}`;
    case "enum":
      return `${field.proto.proto3Optional ? "optional " : ""}${link(field.enum)}`;
    case "message":
      return link(field.message);
    case "list": {
      const item =
        field.listKind === "scalar"
          ? scalarName(field.scalar)
          : field.listKind === "enum"
            ? link(field.enum)
            : link(field.message);
      return `repeated ${item}`;
    }
    case "map": {
      const value =
        field.mapKind === "scalar"
          ? scalarName(field.scalar)
          : field.mapKind === "enum"
            ? link(field.enum)
            : link(field.message);
      return `map from ${scalarName(field.mapKey)} to ${value}`;
    }
  }
}

function rulesText(field: DescField): string {
  if (!hasOption(field, rules)) return "";
  const r: FieldRules = getOption(field, rules);
  const parts: string[] = [];
  if (r.min !== undefined) parts.push(`min ${r.min}`);
  if (r.max !== undefined) parts.push(`max ${r.max}`);
  if (r.finite) parts.push("finite");
  if (r.minLen !== undefined) parts.push(`min length ${r.minLen}`);
  if (r.maxLen !== undefined) parts.push(`max length ${r.maxLen}`);
  if (r.notBlank) parts.push("not blank");
  if (r.lenEqualsConfig) parts.push(`length = config \`${r.lenEqualsConfig}\``);
  return parts.join(", ");
}

function roleOf(method: DescMethod): string {
  if (!hasOption(method, required_role)) return "not declared (public)";
  const role = getOption(method, required_role);
  return RoleSchema.value[role].name;
}

function idempotencyOf(method: DescMethod): string {
  switch (method.idempotency) {
    case MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS:
      return "NO_SIDE_EFFECTS (read-only; Connect GET allowed)";
    case MethodOptions_IdempotencyLevel.IDEMPOTENT:
      return "IDEMPOTENT";
    default:
      return "none declared";
  }
}

const KIND: Record<DescMethod["methodKind"], string> = {
  unary: "unary",
  server_streaming: "server streaming",
  client_streaming: "client streaming",
  bidi_streaming: "bidirectional streaming",
};

function table(header: string[], rows: string[][]): string[] {
  return [
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((row) => `| ${row.map((c) => c || " ").join(" | ")} |`),
  ];
}

function renderService(service: DescService): string[] {
  const out = [
    `### ${service.typeName}`,
    "",
    `File: \`proto/${service.file.name}.proto\``,
    "",
    prose(service),
    "",
  ];
  out.push(
    ...table(
      ["Method", "Kind", "Required role", "Idempotency"],
      service.methods.map((m) => [
        `[${m.name}](#${anchorOf(`${service.name}.${m.name}`)})`,
        KIND[m.methodKind],
        roleOf(m),
        m.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS ? "no side effects" : "",
      ]),
    ),
    "",
  );
  for (const method of service.methods) {
    out.push(`#### ${service.name}.${method.name}`, "");
    const path = `/${service.typeName}/${method.name}`;
    out.push(
      `- Path: \`${path}\` (${KIND[method.methodKind]}${method.deprecated ? ", **deprecated**" : ""})`,
      `- Request: ${link(method.input)}${method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming" ? " (stream)" : ""}`,
      `- Response: ${link(method.output)}${method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming" ? " (stream)" : ""}`,
      `- Required role: ${roleOf(method)}`,
      `- Idempotency: ${idempotencyOf(method)}`,
      "",
      prose(method),
      "",
    );
  }
  return out;
}

function renderMessage(message: DescMessage): string[] {
  const out = [`### ${message.typeName}`, "", prose(message), ""];
  if (message.fields.length === 0) {
    out.push("No fields.", "");
    return out;
  }
  out.push(
    ...table(
      ["Field", "No.", "JSON", "Type", "Rules", "Description"],
      message.fields.map((field) => [
        `\`${field.name}\``,
        String(field.number),
        `\`${field.jsonName}\``,
        fieldType(field),
        rulesText(field),
        (field.oneof ? `One of \`${field.oneof.name}\`. ` : "") +
          (field.deprecated ? "**Deprecated.** " : "") +
          cellText(field),
      ]),
    ),
    "",
  );
  return out;
}

function renderEnum(desc: DescEnum): string[] {
  return [
    `### ${desc.typeName}`,
    "",
    prose(desc),
    "",
    ...table(
      ["Value", "No.", "Description"],
      desc.values.map((v) => [`\`${v.name}\``, String(v.number), cellText(v)]),
    ),
    "",
  ];
}

function nestedMessages(message: DescMessage): DescMessage[] {
  return [message, ...message.nestedMessages.flatMap(nestedMessages)];
}

/** The whole reference as markdown, formatted by Prettier. */
export async function renderApiReference(files: DescFile[] = loadContract()): Promise<string> {
  const services = files.flatMap((f) => f.services);
  const messages = files.flatMap((f) => f.messages.flatMap(nestedMessages));
  const enums = files.flatMap((f) => [
    ...f.enums,
    ...f.messages.flatMap(nestedMessages).flatMap((m) => m.nestedEnums),
  ]);
  const lines = [
    "# API reference",
    "",
    `<!-- Generated from the .proto comments by \`${REGENERATE_COMMAND}\` (src/contract/api-reference.ts). Do not edit. -->`,
    "",
    "Generated from the comments in [`proto/`](../../proto) by `npm run docs:api`; a test fails when this",
    "file disagrees with the contract. Every path is served on both listeners: gRPC on the grpc-js",
    "listener (default port 50051) and Connect, gRPC and gRPC-Web on the HTTP listener (default port",
    "8080). Connect JSON uses the JSON names below. Errors (gRPC status, `ErrorInfo` reason and E-code,",
    "retry hints) are listed in [errors.md](../errors.md); versioning and deprecation rules in",
    "[api-versioning.md](../api-versioning.md). Roles are hierarchical: `ROLE_READ` ⊂ `ROLE_WRITE` ⊂",
    "`ROLE_ADMIN`.",
    "",
    "## Services",
    "",
    ...services.map((s) => `- [${s.typeName}](#${anchorOf(s.typeName)})`),
    "",
    ...services.flatMap(renderService),
    "## Messages",
    "",
    ...messages.flatMap(renderMessage),
    "## Enums",
    "",
    ...enums.flatMap(renderEnum),
  ];
  return format(lines.join("\n"), { parser: "markdown", printWidth: 110 });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const doc = await renderApiReference();
  if (process.argv.includes("--write")) {
    const target = resolve(root, API_REFERENCE_PATH);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, doc);
  } else {
    process.stdout.write(doc);
  }
}
