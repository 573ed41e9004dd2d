/**
 * The Anthropic adapter's handling of what a Messages endpoint may send beyond the happy path
 * the shared fake serves, from a local HTTP server scripted per test: stream event types the
 * adapter does not know (`ping`, future ones) are skipped, a known event with the wrong shape
 * is invalid_response, a stream without message_stop or without text is invalid_response, and
 * a reply's non-text blocks are ignored (only-non-text is "no answer text").
 */
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAnthropicProvider } from "../../src/providers/llm/anthropic.js";
import { drain, failureOf, modelCall } from "./support/model-call.js";

type Script = (res: ServerResponse) => void;

const sse =
  (events: readonly object[]): Script =>
  (res) => {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    for (const event of events) {
      const type = (event as { type: string }).type;
      res.write(`event: ${type}\ndata: ${JSON.stringify(event)}\n\n`);
    }
    res.end();
  };
const json =
  (body: object): Script =>
  (res) => {
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
  };

const START = { type: "message_start", message: { id: "m", usage: { input_tokens: 11, output_tokens: 1 } } };
const BLOCK_START = { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } };
const delta = (text: string) => ({
  type: "content_block_delta",
  index: 0,
  delta: { type: "text_delta", text },
});
const STOP = { type: "message_stop" };

describe("anthropic adapter: unusual replies and stream events", () => {
  let server: Server;
  let origin = "";
  let next: Script = json({});
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        next(res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });
  const provider = () =>
    createAnthropicProvider({ baseUrl: origin, apiKey: "sk-ant-test-0123456789", model: "claude-x" });

  it("skips ping and event types it does not know, and keeps the usage of message_start and message_delta", async () => {
    next = sse([
      START,
      { type: "ping" },
      BLOCK_START,
      delta("Hello "),
      { type: "future_event_kind", payload: { anything: true } },
      { type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json: "{}" } },
      delta("world"),
      { type: "content_block_stop", index: 0 },
      { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 9 } },
      STOP,
    ]);
    const stream = await provider().stream(modelCall());
    expect((await drain(stream)).join("")).toBe("Hello world");
    expect(stream.usage()).toEqual({ inputTokens: 11, outputTokens: 9 });
  });

  it("a known event type with the wrong shape is invalid_response", async () => {
    next = sse([START, BLOCK_START, { type: "content_block_delta", index: 0 }, STOP]);
    const { failure } = await failureOf(drain(await provider().stream(modelCall())));
    expect(failure.kind).toBe("invalid_response");
    expect(failure.message).toMatch(/malformed stream event/);
  });

  it("a stream that ends without message_stop, or without any text, is invalid_response", async () => {
    next = sse([START, BLOCK_START, delta("cut off")]);
    const cut = await failureOf(drain(await provider().stream(modelCall())));
    expect(cut.failure.message).toMatch(/stream ended without message_stop/);
    next = sse([START, BLOCK_START, delta(""), STOP]);
    const empty = await failureOf(drain(await provider().stream(modelCall())));
    expect(empty.failure.message).toMatch(/no answer text/);
  });

  it("a reply's text blocks are joined, other blocks ignored; no usage is undefined tokens", async () => {
    next = json({
      id: "m",
      type: "message",
      role: "assistant",
      content: [
        { type: "thinking", thinking: "hmm" },
        { type: "text", text: "Part one. " },
        { type: "tool_use", id: "t", name: "x", input: {} },
        { type: "text", text: "Part two." },
      ],
      usage: null,
    });
    const reply = await provider().generate(modelCall());
    expect(reply).toEqual({
      text: "Part one. Part two.",
      usage: { inputTokens: undefined, outputTokens: undefined },
    });
    next = json({ id: "m", type: "message", content: [{ type: "tool_use", id: "t", name: "x", input: {} }] });
    const { failure } = await failureOf(provider().generate(modelCall()));
    expect(failure).toMatchObject({ kind: "invalid_response" });
    expect(failure.message).toMatch(/no answer text/);
    next = json({ id: "m", type: "message", content: "not a list" });
    expect((await failureOf(provider().generate(modelCall()))).failure.message).toMatch(/not a message/);
  });
});
