/**
 * Renders docs/configuration.md from the schema, so the documented keys, variables, ranges and
 * defaults are the ones the service enforces. tests/config/docs.test.ts fails when the file
 * in the repository differs from this rendering.
 *
 * Regenerate with `npx tsx src/config/docs.ts --write` (or redirect stdout without the flag).
 * The output is already in Prettier's markdown layout (aligned table), so `prettier --check`
 * accepts it unchanged.
 */
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { stringify } from "yaml";
import { configEntries, type ConfigEntry } from "./entries.js";
import { CONFIG_FILE_ENV, ENV_BOOLEAN_ALLOWED } from "./env.js";

/** Where the rendered page lives, relative to the repository root. */
export const CONFIGURATION_DOC_PATH = "docs/configuration.md";

/** The command that regenerates the page; quoted by the docs test when the page is stale. */
export const REGENERATE_COMMAND = "npx tsx src/config/docs.ts --write";

function yamlScalar(value: unknown): string {
  return stringify(value).trimEnd();
}

function showDefault(entry: ConfigEntry): string {
  if (entry.default === "" || entry.default === undefined) return "(unset)";
  return `\`${yamlScalar(entry.default)}\``;
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

/** A markdown table laid out the way Prettier prints one (columns padded, at least 3 wide). */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) =>
    Math.max(3, title.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((text, column) => text.padEnd(widths[column] ?? 3)).join(" | ")} |`;
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join("\n");
}

/** A complete YAML file with every key at its default, each commented with its variable. */
function exampleYaml(entries: readonly ConfigEntry[]): string {
  const lines: string[] = [];
  let open: readonly string[] = [];
  for (const entry of entries) {
    const parents = entry.path.slice(0, -1);
    let shared = 0;
    while (shared < Math.min(open.length, parents.length) && open[shared] === parents[shared]) shared++;
    for (let depth = shared; depth < parents.length; depth++) {
      lines.push(`${"  ".repeat(depth)}${parents[depth] ?? ""}:`);
    }
    open = parents;
    const name = entry.path[entry.path.length - 1] ?? "";
    const value = entry.secret ? '""' : yamlScalar(entry.default);
    lines.push(`${"  ".repeat(parents.length)}${name}: ${value} # ${entry.env}`);
  }
  return lines.join("\n");
}

/** The whole of docs/configuration.md. */
export function renderConfigurationDoc(): string {
  const entries = configEntries();
  const rows = entries.map((entry) => [
    `\`${entry.key}\``,
    `\`${entry.env}\``,
    cell(entry.allowed),
    showDefault(entry),
    cell(entry.secret ? `${entry.description} Secret: masked when printed.` : entry.description),
  ]);
  const errorTable = table(
    ["Code", "Reason", "Meaning"],
    [
      [
        "`E801`",
        "`CONFIG_INVALID`",
        "A value is out of range or of the wrong type, or the file has an unknown key.",
      ],
      [
        "`E802`",
        "`CONFIG_FILE_UNREADABLE`",
        `The file named by \`${CONFIG_FILE_ENV}\` cannot be read (missing, no permission).`,
      ],
      ["`E803`", "`CONFIG_FILE_INVALID`", "The file is not valid YAML, or its top level is not a mapping."],
      [
        "`E804`",
        "`CONFIG_INSECURE`",
        "Secure mode refuses the combination (docs/security/secure-mode.md names each case).",
      ],
    ],
  );
  return `<!-- Generated from src/config/schema.ts by \`${REGENERATE_COMMAND}\`; do not edit by hand. -->

# Configuration

Every setting of the MLSDM service lives in one validated schema (\`src/config/schema.ts\`). Each key has
a default, so the service starts with no configuration at all; a bad value stops start-up.

## Where values come from

Later sources win over earlier ones:

1. the defaults in the table below;
2. an optional YAML file named by the \`${CONFIG_FILE_ENV}\` environment variable, using the nested
   camelCase keys of the table (see the example below);
3. \`MLSDM_*\` environment variables, one per key.

Environment values are parsed strictly by type: integers must be plain integer literals (\`12abc\`,
\`1.5\` and the empty string are errors), booleans accept ${ENV_BOOLEAN_ALLOWED} in any letter case,
and enumerations must match one of the listed words exactly. In the YAML file, values must have
the right YAML type (\`grpcPort: 50051\`, not \`grpcPort: "50051"\`; booleans are \`true\` or \`false\`).

An \`MLSDM_*\` variable that matches no key is reported as a warning at start-up (it is probably a
typo) and otherwise ignored. The effective configuration is logged at start-up with secrets
replaced by \`***\`.

## Errors

A bad value makes the service print one line to stderr and exit with code 2, for example:

\`\`\`text
E801 CONFIG_INVALID: server.grpcPort (MLSDM_GRPC_PORT) = "abc": expected an integer from 0 to 65535
\`\`\`

${errorTable}

## Keys

${table(["Key", "Environment variable", "Allowed values", "Default", "Description"], rows)}

## Example file

Every key at its default, with the environment variable that overrides it. Keep only what you change.

\`\`\`yaml
${exampleYaml(entries)}
\`\`\`
`;
}

function isMainModule(): boolean {
  const script = process.argv[1];
  return script !== undefined && import.meta.url === pathToFileURL(resolve(script)).href;
}

if (isMainModule()) {
  const text = renderConfigurationDoc();
  if (process.argv.includes("--write")) {
    const target = fileURLToPath(new URL(`../../${CONFIGURATION_DOC_PATH}`, import.meta.url));
    // eslint-disable-next-line security/detect-non-literal-fs-filename -- target is this repository's generated docs file
    writeFileSync(target, text);
    process.stdout.write(`wrote ${target}\n`);
  } else {
    process.stdout.write(text);
  }
}
