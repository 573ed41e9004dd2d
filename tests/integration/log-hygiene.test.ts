/**
 * Log lines of a real server process (issue 8): every line is one JSON object; a call's access
 * line carries the client's request id, the trace id of its span (tracing on, exporting to a
 * closed port) and, on failure, the error code; no line contains the provider API key, a
 * prompt, or personal data that reached a log call or a request (cards, JWTs, e-mails).
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";

const SECRET = "sk-sentinel-secret-key-0123456789abcdef";
const PROMPT = "sentinel prompt text about otters 7731";
const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
// Sentinels placed in a request (BASE-SEC-d): none may appear in any log line.
const CARD = "4111 1111 1111 1111";
const JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJsb2ctc2VudGluZWwifQ.c2lnbmF0dXJlLXNlbnRpbmVsLTEyMzQ1";
const EMAIL = "log.sentinel@example.com";

describe("log lines of a server process", () => {
  it("are JSON, correlated, carry error codes, and leak neither secrets nor prompts", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      env: {
        ...process.env,
        MLSDM_GRPC_PORT: "0",
        MLSDM_STATE: "memory",
        MLSDM_HTTP_PORT: "0",
        MLSDM_LOG_FORMAT: "json",
        MLSDM_LOG_LEVEL: "debug",
        MLSDM_LLM_PRIMARY_BACKEND: "openai",
        MLSDM_LLM_PRIMARY_BASE_URL: "http://127.0.0.1:9/v1",
        MLSDM_LLM_PRIMARY_API_KEY: SECRET,
        MLSDM_LLM_MAX_RETRIES: "0",
        OTEL_TRACES_EXPORTER: "otlp",
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9",
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const raw: string[] = [];
    createInterface({ input: child.stdout }).on("line", (line) => raw.push(line));
    const exited = new Promise((resolve) => child.on("exit", resolve));
    const lines = (): Record<string, unknown>[] =>
      raw.map((line) => JSON.parse(line) as Record<string, unknown>);
    try {
      await expect.poll(() => lines().find((l) => l.event === "started"), { timeout: 15_000 }).toBeDefined();
      const started = lines().find((l) => l.event === "started");
      expect(started?.tracing).toBe("otlp");
      const httpPort = Number(String(started?.http).split(":").at(-1));
      const call = (body: object, requestId: string): Promise<Response> =>
        fetch(`http://127.0.0.1:${httpPort}/mlsdm.v1.EngineService/Generate`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "x-request-id": requestId,
            traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01`,
          },
          body: JSON.stringify(body),
        });
      // The provider is unreachable: UNAVAILABLE E603 (the key must not leak into the error log).
      expect((await call({ prompt: `${PROMPT} mail bob@example.com` }, "req-provider-down")).status).toBe(
        503,
      );
      // Personal data and credentials in a prompt: card and JWT masked by the prompt policy
      // (an audit line with counts only), the e-mail allowed through but scrubbed from logs.
      expect(
        (await call({ prompt: `pay ${CARD} as ${EMAIL} with ${JWT}`, contextTopK: 0 }, "req-pii")).status,
      ).toBe(503);
      // Invalid input: INVALID_ARGUMENT E103.
      expect((await call({ prompt: "   " }, "req-invalid")).status).toBe(400);

      await expect.poll(() => lines().filter((l) => l.event === "rpc").length).toBeGreaterThanOrEqual(2);
      const down = lines().find((l) => l.event === "rpc" && l.request_id === "req-provider-down");
      expect(down).toMatchObject({ code: "UNAVAILABLE", error_code: "E603", trace_id: TRACE_ID });
      expect(typeof down?.span_id).toBe("string");
      const invalid = lines().find((l) => l.event === "rpc" && l.request_id === "req-invalid");
      expect(invalid).toMatchObject({ code: "INVALID_ARGUMENT", error_code: "E103", trace_id: TRACE_ID });
      const text = raw.join("\n");
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(PROMPT);
      expect(text).not.toContain("bob@example.com");
      for (const sentinel of [CARD, "4111", JWT, EMAIL]) expect(text).not.toContain(sentinel);
      const masked = lines().find((l) => l.event === "prompt_pii_masked");
      expect(masked).toMatchObject({ request_id: "req-pii", entities: { card: 1, jwt: 1 } });
    } finally {
      child.kill("SIGTERM");
      await exited;
    }
  });
});
