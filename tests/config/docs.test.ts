/**
 * docs/configuration.md is generated from the schema: it must match the rendering byte for
 * byte, be stable under Prettier, document every key, and carry an example file that loads.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { format, resolveConfig } from "prettier";
import { describe, expect, it } from "vitest";
import { configEntries, configSchema, loadConfig } from "../../src/config/index.js";
import { CONFIGURATION_DOC_PATH, REGENERATE_COMMAND, renderConfigurationDoc } from "../../src/config/docs.js";
import { yamlFile } from "./support.js";

const docPath = fileURLToPath(new URL(`../../${CONFIGURATION_DOC_PATH}`, import.meta.url));
const rendered = renderConfigurationDoc();

describe("docs/configuration.md", () => {
  it("matches the rendering of the schema", () => {
    const onDisk = readFileSync(docPath, "utf8");
    expect(
      onDisk === rendered,
      `${CONFIGURATION_DOC_PATH} is out of date with src/config/schema.ts; regenerate it with \`${REGENERATE_COMMAND}\``,
    ).toBe(true);
  });

  it("is already in Prettier's layout, so `prettier --check` and this test agree", async () => {
    const options = (await resolveConfig(docPath)) ?? {};
    const formatted = await format(rendered, { ...options, filepath: docPath });
    expect(formatted, "renderConfigurationDoc() output changes under Prettier; fix the renderer").toBe(
      rendered,
    );
  });

  it("lists every key with its variable and default", () => {
    for (const entry of configEntries()) {
      const row = rendered.split("\n").find((line) => line.startsWith(`| \`${entry.key}\` `));
      expect(row, entry.key).toBeDefined();
      expect(row).toContain(`\`${entry.env}\``);
      expect(row).toContain(entry.allowed);
    }
  });

  it("states the precedence, the exit code and the error line", () => {
    expect(rendered).toContain("MLSDM_CONFIG");
    expect(rendered).toContain("exit with code 2");
    expect(rendered).toContain(
      'E801 CONFIG_INVALID: server.grpcPort (MLSDM_GRPC_PORT) = "abc": expected an integer from 0 to 65535',
    );
  });

  it("has an example file that loads to the defaults", () => {
    const example = /```yaml\n([\s\S]*?)```/.exec(rendered)?.[1];
    expect(example).toBeDefined();
    const { config, warnings } = loadConfig({ env: { MLSDM_CONFIG: yamlFile(example ?? "") } });
    expect(warnings).toEqual([]);
    expect(config).toEqual(configSchema.parse({}));
  });
});
