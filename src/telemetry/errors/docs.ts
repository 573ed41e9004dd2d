/**
 * Renders `docs/errors.md` from the catalogue, so the error reference can never disagree
 * with the code (OBS-004 "table in docs"; the fastify `Errors.md` pattern named in
 * spec/peers.md). A test fails when the committed file differs from the rendering.
 *
 * Usage (from the repository root):
 *   npx tsx src/telemetry/errors/docs.ts --write   # rewrite docs/errors.md
 *   npx tsx src/telemetry/errors/docs.ts           # print the document to stdout
 *
 * The output is already in Prettier's markdown style, so `prettier --check` passes on it.
 */
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Code } from "@connectrpc/connect";
import {
  CODE_FAMILY_EXCEPTIONS,
  ERROR_CATALOGUE,
  ERROR_DOMAIN,
  ERROR_FAMILIES,
  ERROR_REASONS,
  connectHttpStatus,
  grpcStatusName,
  type CatalogueEntry,
} from "./catalogue.js";

/** Where the rendered document lives, relative to the repository root. */
export const ERRORS_DOC_PATH = "docs/errors.md";

/** The command that regenerates {@link ERRORS_DOC_PATH}; quoted by the drift test. */
export const REGENERATE_COMMAND = "npx tsx src/telemetry/errors/docs.ts --write";

function cell(text: string): string {
  return text.replaceAll("|", "\\|");
}

function formatDelay(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${ms / 1000} s`;
}

function retryCell(entry: CatalogueEntry): string {
  if (!entry.retryable) return "no";
  return entry.retryAfterMs === undefined ? "yes" : `yes, after ${formatDelay(entry.retryAfterMs)}`;
}

/** A markdown table with padded columns, exactly as Prettier aligns it (ASCII text only). */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const body = rows.map((row) => row.map(cell));
  const widths = header.map((title, i) =>
    Math.max(3, title.length, ...body.map((row) => (row[i] ?? "").length)),
  );
  const line = (cells: readonly string[]): string =>
    `| ${widths.map((width, i) => (cells[i] ?? "").padEnd(width)).join(" | ")} |`;
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...body.map(line)];
}

const STATUS_ORDER: readonly Code[] = [
  Code.InvalidArgument,
  Code.FailedPrecondition,
  Code.OutOfRange,
  Code.Unauthenticated,
  Code.PermissionDenied,
  Code.NotFound,
  Code.AlreadyExists,
  Code.Aborted,
  Code.ResourceExhausted,
  Code.Canceled,
  Code.Unknown,
  Code.Internal,
  Code.DataLoss,
  Code.Unimplemented,
  Code.Unavailable,
  Code.DeadlineExceeded,
];

const INTRO = `# Error codes

<!-- Generated from src/telemetry/errors/catalogue.ts by \`${REGENERATE_COMMAND}\`. Do not edit by hand. -->

Every failure a client can see has a stable code (\`E###\`), a stable UPPER_SNAKE reason, a canonical
status, a retry flag and a message that says what to do. The same catalogue drives the wire, the logs
(\`error_code\`, \`error_reason\`, \`grpc_code\`) and the metrics (\`mlsdm_errors_total{code}\`), and
both listeners (grpc-js and connect-node) send exactly the same error.

## Stability

- Codes and reasons are part of the API: removing or renumbering one is a breaking change (see the
  versioning policy); adding one is not.
- Match on \`ErrorInfo.reason\` or \`ErrorInfo.metadata.code\`, never on the message text: messages may
  be reworded.
- Codes are grouped in families by their first digit: E1xx validation, E2xx auth, E3xx moral filter,
  E4xx memory and state, E5xx rhythm, E6xx provider, E7xx system, E8xx configuration.

## On the wire

Each error carries a status, a message (the catalogue message, sometimes followed by a detail in
parentheses) and these \`google.rpc\` details:

- \`google.rpc.ErrorInfo\`, always: \`reason\` is the UPPER_SNAKE reason, \`domain\` is
  \`${ERROR_DOMAIN}\`, \`metadata.code\` is the \`E###\` code; other metadata keys add context
  (for example \`method\` or \`service\`).
- \`google.rpc.RetryInfo\` when the error is retryable: \`retry_delay\` is how long to wait. It is
  also sent as a \`retry-after\` header or trailer in whole seconds.
- \`google.rpc.BadRequest\` for validation errors: one \`FieldViolation\` per bad field.
- \`google.rpc.QuotaFailure\` when a quota was exceeded.
- \`google.rpc.RequestInfo\` when the call has a request id (\`x-request-id\`): quote it when
  reporting a problem.

**gRPC** (the grpc-js listener, and gRPC on the Connect listener): HTTP/2 status 200 with the
trailers \`grpc-status\` (the numeric code), \`grpc-message\` (the message, percent-encoded) and
\`grpc-status-details-bin\` (a base64 \`google.rpc.Status\` whose \`details\` hold the messages above
as \`google.protobuf.Any\`). gRPC-Web carries the same fields in its trailer frame; browsers can read
them because CORS exposes \`grpc-status\`, \`grpc-message\` and \`grpc-status-details-bin\`.

**Connect** (the Connect listener): a unary error is an HTTP error status (table below) with a JSON
body; a streaming error is the \`error\` field of the end-of-stream message, in the same shape:

\`\`\`json
{
  "code": "unavailable",
  "message": "${ERROR_CATALOGUE.EMERGENCY_SHUTDOWN.message}",
  "details": [
    {
      "type": "google.rpc.ErrorInfo",
      "value": "<base64 of the protobuf message>",
      "debug": { "reason": "EMERGENCY_SHUTDOWN", "domain": "${ERROR_DOMAIN}", "metadata": { "code": "${ERROR_CATALOGUE.EMERGENCY_SHUTDOWN.code}" } }
    },
    {
      "type": "google.rpc.RetryInfo",
      "value": "<base64 of the protobuf message>",
      "debug": { "retryDelay": "42s" }
    }
  ]
}
\`\`\`

Clients read the details with \`err.findDetails(ErrorInfoSchema)\` (connect-es) or by decoding
\`grpc-status-details-bin\` as \`google.rpc.Status\` (grpc-js and other gRPC clients).

Internal errors (\`INTERNAL\`, E700) carry a generic message only: no exception text, stack trace or
file path ever reaches the client. The server logs the cause chain under the request id.

### HTTP status on the Connect protocol

Fixed by the Connect protocol; gRPC and gRPC-Web responses use HTTP 200 and \`grpc-status\`.
`;

function statusTable(): string[] {
  return table(
    ["gRPC status", "Code", "HTTP status"],
    STATUS_ORDER.map((code) => [
      `\`${grpcStatusName(code)}\``,
      String(code),
      String(connectHttpStatus(code)),
    ]),
  );
}

function familySections(): string[] {
  const lines: string[] = [];
  for (const [digit, family] of Object.entries(ERROR_FAMILIES)) {
    const reasons = ERROR_REASONS.filter((reason) => ERROR_CATALOGUE[reason].code.charAt(1) === digit);
    if (reasons.length === 0) continue;
    lines.push("", `### E${digit}xx: ${family}`, "");
    lines.push(
      ...table(
        ["Code", "Reason", "gRPC status", "HTTP", "Retryable", "Message", "Operator action"],
        reasons.map((reason) => {
          const entry = ERROR_CATALOGUE[reason];
          return [
            entry.code,
            `\`${reason}\``,
            `\`${grpcStatusName(entry.status)}\``,
            String(connectHttpStatus(entry.status)),
            retryCell(entry),
            entry.message,
            entry.action,
          ];
        }),
      ),
    );
    for (const reason of reasons) {
      const why = CODE_FAMILY_EXCEPTIONS[reason];
      if (why !== undefined) lines.push("", `Note on \`${reason}\`: ${why}`);
    }
  }
  return lines;
}

/**
 * The full `docs/errors.md`: how errors look on both listeners, the Connect HTTP mapping,
 * and one table per family (code, reason, gRPC status, HTTP status, retryable, message,
 * operator action).
 */
export function renderErrorsDoc(): string {
  const lines = [
    INTRO,
    ...statusTable(),
    "",
    "## Catalogue",
    "",
    "The retry delay shown is the default hint; the server sends a better one when it knows it",
    "(the remaining emergency cooldown, the time until the next rate-limit token).",
    ...familySections(),
  ];
  return `${lines.join("\n")}\n`;
}

function isMain(): boolean {
  const script = process.argv[1];
  return script !== undefined && resolve(script) === fileURLToPath(import.meta.url);
}

if (isMain()) {
  const text = renderErrorsDoc();
  if (process.argv.includes("--write")) {
    const target = resolve(process.cwd(), ERRORS_DOC_PATH);
    // eslint-disable-next-line security/detect-non-literal-fs-filename -- target is this repository's generated docs file
    writeFileSync(target, text);
    process.stdout.write(`wrote ${target}\n`);
  } else {
    process.stdout.write(text);
  }
}
