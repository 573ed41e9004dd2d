/**
 * The shared logger's lines (src/telemetry/logger.ts), captured from a stream transport: JSON
 * and pretty formats after configureLogger, personal data scrubbed from the message and nested
 * fields (caller objects left untouched; Errors and deep values kept as they are), and the
 * current request's id, method and identity stamped on each line.
 */
import { PassThrough } from "node:stream";
import winston from "winston";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { configureLogger, logger } from "../../src/telemetry/logger.js";
import { withRequestContext } from "../../src/telemetry/request-context.js";

describe("the shared logger's output", () => {
  const stream = new PassThrough();
  let written: string[] = [];
  stream.on("data", (chunk: Buffer) => written.push(chunk.toString("utf8")));
  const saved = { transports: [...logger.transports], level: logger.level, format: logger.format };
  const transport = new winston.transports.Stream({ stream });

  beforeAll(() => {
    logger.clear();
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- winston's own Stream transport; its typings declare a separate TransportStream class
    logger.add(transport);
    logger.silent = false;
  });
  afterAll(() => {
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- as above
    logger.remove(transport);
    for (const original of saved.transports) logger.add(original);
    logger.level = saved.level;
    logger.format = saved.format;
    logger.silent = true;
  });
  beforeEach(() => {
    written = [];
    configureLogger({ level: "info", format: "json", version: "9.9.9-test" });
  });

  const lines = () =>
    written
      .join("")
      .split("\n")
      .filter((line) => line !== "");
  const json = () => lines().map((line) => JSON.parse(line) as Record<string, unknown>);

  it("JSON lines carry the service, version, level, timestamp and fields", () => {
    logger.info("hello", { event: "unit", count: 3 });
    logger.debug("not at info level");
    expect(json()).toEqual([
      {
        level: "info",
        message: "hello",
        event: "unit",
        count: 3,
        service: "mlsdm",
        version: "9.9.9-test",
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      },
    ]);
  });

  it("pretty lines: timestamp, upper-case level, message, then the other fields as JSON", () => {
    configureLogger({ level: "debug", format: "pretty", version: "1" });
    logger.warn("careful", { event: "pretty_test" });
    logger.debug("bare");
    const [first, second] = lines();
    expect(first).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z WARN careful \{"event":"pretty_test"\}$/);
    expect(second).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z DEBUG bare$/);
  });

  it("scrubs personal data from the message and nested strings without touching the caller's objects", () => {
    const nested = { user: { email: "jane.doe@example.com", note: "fine" }, list: ["ok", "bob@example.org"] };
    const error = new Error("from carol@example.net");
    logger.info("mail jane.doe@example.com please", {
      event: "scrub",
      nested,
      error,
      deep: { a: { b: { c: { d: "four@example.com", e: { f: "five@example.com" } } } } },
      untouched: { plain: "nothing personal", numbers: [1, 2] },
    });
    const [line] = json();
    expect(line?.message).toBe("mail [EMAIL] please");
    expect(line?.nested).toEqual({ user: { email: "[EMAIL]", note: "fine" }, list: ["ok", "[EMAIL]"] });
    expect(line?.untouched).toEqual({ plain: "nothing personal", numbers: [1, 2] });
    // Strings are scrubbed down to the depth bound; objects beyond it are written as they came.
    expect(line?.deep).toEqual({ a: { b: { c: { d: "[EMAIL]", e: { f: "five@example.com" } } } } });
    // The caller's objects are copies-on-write: unchanged after the call.
    expect(nested.user.email).toBe("jane.doe@example.com");
    expect(nested.list[1]).toBe("bob@example.org");
    // Errors, Dates and buffers are passed through, not copied: the Error is not rewritten.
    expect(error.message).toBe("from carol@example.net");
    expect(JSON.stringify(line)).not.toContain("carol@example.net");
  });

  it("stamps the current request's id, method and identity on each line", () => {
    withRequestContext({ requestId: "req-123", method: "mlsdm.v1.EngineService/Generate" }, () => {
      logger.info("inside");
    });
    const context = { requestId: "req-456", method: "m", identityId: "apikey:k1" };
    withRequestContext(context, () => {
      logger.info("with identity", { request_id: "explicit" });
    });
    logger.info("outside");
    const [inside, identity, outside] = json();
    expect(inside).toMatchObject({ request_id: "req-123", method: "mlsdm.v1.EngineService/Generate" });
    expect(inside).not.toHaveProperty("identity_id");
    expect(identity).toMatchObject({ request_id: "explicit", method: "m", identity_id: "apikey:k1" });
    expect(outside).not.toHaveProperty("request_id");
  });
});
