/**
 * docs/errors.md is generated from the catalogue: it must equal the rendering, and the
 * rendering must already be in Prettier's style (so `--write` never fights the formatter).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as prettier from "prettier";
import { describe, expect, it } from "vitest";
import { ERRORS_DOC_PATH, REGENERATE_COMMAND, renderErrorsDoc } from "../../../src/telemetry/errors/docs.js";
import { ERROR_CATALOGUE, ERROR_REASONS, grpcStatusName } from "../../../src/telemetry/errors/index.js";

const docPath = fileURLToPath(new URL(`../../../${ERRORS_DOC_PATH}`, import.meta.url));

describe("docs/errors.md", () => {
  it("matches the rendering of the catalogue", () => {
    const committed = readFileSync(docPath, "utf8");
    expect(
      committed,
      `${ERRORS_DOC_PATH} is out of date with the error catalogue; regenerate it with \`${REGENERATE_COMMAND}\``,
    ).toBe(renderErrorsDoc());
  });

  it("is rendered in Prettier's markdown style", async () => {
    const rendered = renderErrorsDoc();
    const options = (await prettier.resolveConfig(docPath)) ?? {};
    expect(await prettier.format(rendered, { ...options, filepath: docPath })).toBe(rendered);
  });

  it("has a table row for every reason with its code, status and retry flag", () => {
    const rendered = renderErrorsDoc();
    for (const reason of ERROR_REASONS) {
      const entry = ERROR_CATALOGUE[reason];
      const row = rendered.split("\n").find((line) => line.startsWith(`| ${entry.code} `));
      expect(row, reason).toBeDefined();
      expect(row).toContain(`\`${reason}\``);
      expect(row).toContain(`\`${grpcStatusName(entry.status)}\``);
      expect(row).toContain(entry.retryable ? "| yes" : "| no ");
    }
  });

  it("explains the wire format on both listeners", () => {
    const rendered = renderErrorsDoc();
    for (const needle of [
      "grpc-status-details-bin",
      "google.rpc.ErrorInfo",
      "google.rpc.RetryInfo",
      "google.rpc.BadRequest",
      "google.rpc.RequestInfo",
      "mlsdm.dev",
      '"code": "unavailable"',
      "breaking change",
    ]) {
      expect(rendered, needle).toContain(needle);
    }
  });
});
