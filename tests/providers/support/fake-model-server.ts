/**
 * A real `node:http` server on 127.0.0.1 (ephemeral port) speaking just enough of the OpenAI (chat
 * completions JSON and SSE, embeddings, moderations) and Anthropic (messages JSON and SSE) protocols for the
 * adapter tests. Each request takes the next behaviour from a queue (default: ok), so a test can script 429s,
 * 500s, malformed bodies, connection resets, slow answers and streams that stall midway, and every request
 * is recorded (path, headers, body, and when the client closed the connection).
 */
import { once } from "node:events";
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** What the server does with one request. */
export type Behaviour =
  /** A normal answer; streamed as `deltas` (default: the words of `text`). */
  | {
      readonly kind: "ok";
      readonly deltas?: readonly string[];
      /** Embedding length for /embeddings (default: the server's embeddingDimension). */
      readonly dimension?: number;
      /** Category scores for /moderations (default: all low). */
      readonly scores?: Readonly<Record<string, number>>;
      /** Flagged categories for /moderations. */
      readonly flagged?: readonly string[];
    }
  /** A protocol-valid answer with no text (no choices / no content blocks). */
  | { readonly kind: "empty" }
  /** An HTTP error status with optional headers and JSON body. */
  | {
      readonly kind: "status";
      readonly status: number;
      readonly headers?: Readonly<Record<string, string>>;
      readonly body?: unknown;
    }
  /** 200 with a body (or first SSE event) that is not JSON. */
  | { readonly kind: "malformed" }
  /** The socket is destroyed before any response. */
  | { readonly kind: "reset" }
  /** Answers normally after `delayMs` (unless the client gave up first). */
  | { readonly kind: "slow"; readonly delayMs: number }
  /** Streams `afterDeltas` deltas, then sends nothing more and keeps the connection open. */
  | { readonly kind: "stall"; readonly afterDeltas: number }
  /** Streams `afterDeltas` deltas, then destroys the socket. */
  | { readonly kind: "reset_mid_stream"; readonly afterDeltas: number };

/** One request as the server received it. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The parsed JSON body (or the raw text when it was not JSON). */
  readonly body: unknown;
  /** Resolves when the connection of this exchange closed; `abandoned` tells whether the client left early. */
  readonly closed: Promise<void>;
  /** True when the client closed the connection before the response was complete. */
  readonly abandoned: boolean;
}

/** Token counts the server reports. */
export const FAKE_USAGE = { input: 7, output: 5 } as const;
export const DEFAULT_TEXT = "Hello from the fake model server";

interface MutableRecord extends RecordedRequest {
  abandoned: boolean;
}

export class FakeModelServer {
  readonly requests: RecordedRequest[] = [];
  private readonly queue: Behaviour[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly server: http.Server,
    readonly origin: string,
    private readonly embeddingDimension: number,
  ) {}

  /** Starts a server on 127.0.0.1, port 0. */
  static async start(options: { embeddingDimension?: number } = {}): Promise<FakeModelServer> {
    const server = http.createServer();
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    const fake = new FakeModelServer(server, `http://127.0.0.1:${port}`, options.embeddingDimension ?? 8);
    server.on("request", (req: IncomingMessage, res: ServerResponse) => {
      fake.handle(req, res).catch((error: unknown) => {
        console.error("fake model server:", error);
        res.destroy();
      });
    });
    return fake;
  }

  /** The OpenAI-style API root ("…/v1"). */
  get openAiBaseUrl(): string {
    return `${this.origin}/v1`;
  }

  /** Queues behaviours for the next requests, in order. */
  enqueue(...behaviours: Behaviour[]): void {
    this.queue.push(...behaviours);
  }

  /** The last recorded request (fails the test when there is none). */
  lastRequest(): RecordedRequest {
    const last = this.requests.at(-1);
    if (last === undefined) throw new Error("the fake server received no request");
    return last;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) =>
      this.server.close(() => {
        resolve();
      }),
    );
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // keep the raw text
    }
    const record: MutableRecord = {
      method: req.method ?? "",
      path: req.url ?? "",
      headers: req.headers,
      body,
      abandoned: false,
      closed: new Promise<void>((resolve) => {
        res.once("close", () => {
          if (!res.writableFinished) record.abandoned = true;
          resolve();
        });
      }),
    };
    this.requests.push(record);
    const behaviour = this.queue.shift() ?? { kind: "ok" };
    this.respond(req, res, behaviour, record);
  }

  private respond(
    req: IncomingMessage,
    res: ServerResponse,
    behaviour: Behaviour,
    record: RecordedRequest,
  ): void {
    const protocol = protocolOf(record.path);
    const streaming = isStreaming(record.body);
    switch (behaviour.kind) {
      case "reset":
        req.socket.destroy();
        return;
      case "status":
        sendJson(res, behaviour.status, behaviour.body ?? errorBody(behaviour.status), behaviour.headers);
        return;
      case "malformed":
        if (streaming) {
          startSse(res);
          res.end("data: {not json\n\n");
        } else {
          res.writeHead(200, { "content-type": "application/json" });
          res.end('{"choices": [ {"message": ');
        }
        return;
      case "slow": {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          if (!res.destroyed) this.respond(req, res, { kind: "ok" }, record);
        }, behaviour.delayMs);
        this.timers.add(timer);
        res.once("close", () => {
          clearTimeout(timer);
          this.timers.delete(timer);
        });
        return;
      }
      case "empty":
        sendJson(res, 200, emptyBody(protocol));
        return;
      case "stall":
      case "reset_mid_stream": {
        const events = streamEvents(protocol, DEFAULT_TEXT.split(/(?<= )/), record.body);
        startSse(res);
        // Header events (message_start, content_block_start) plus the first N deltas.
        const preamble = protocol === "anthropic" ? 2 : 0;
        for (const event of events.slice(0, preamble + behaviour.afterDeltas)) res.write(event);
        if (behaviour.kind === "reset_mid_stream") {
          const timer = setTimeout(() => {
            this.timers.delete(timer);
            req.socket.destroy();
          }, 20);
          this.timers.add(timer);
        }
        return;
      }
      case "ok":
        this.sendOk(res, protocol, streaming, behaviour, record.body);
        return;
    }
  }

  private sendOk(
    res: ServerResponse,
    protocol: Protocol,
    streaming: boolean,
    ok: Extract<Behaviour, { kind: "ok" }>,
    body: unknown,
  ): void {
    const deltas = ok.deltas ?? DEFAULT_TEXT.split(/(?<= )/);
    const text = deltas.join("");
    if (protocol === "embeddings") {
      const dimension = ok.dimension ?? this.embeddingDimension;
      const embedding = Array.from({ length: dimension }, (_, i) => (i + 1) / dimension);
      sendJson(res, 200, {
        object: "list",
        data: [{ object: "embedding", index: 0, embedding }],
        model: modelOf(body),
        usage: { prompt_tokens: FAKE_USAGE.input, total_tokens: FAKE_USAGE.input },
      });
    } else if (protocol === "moderations") {
      const scores = ok.scores ?? { violence: 0.01, harassment: 0.02 };
      const flagged = ok.flagged ?? [];
      const categories = Object.fromEntries(
        Object.keys(scores).map((name) => [name, flagged.includes(name)]),
      );
      sendJson(res, 200, {
        id: "modr-1",
        model: modelOf(body),
        results: [{ flagged: flagged.length > 0, categories, category_scores: scores }],
      });
    } else if (streaming) {
      startSse(res);
      for (const event of streamEvents(protocol, deltas, body)) res.write(event);
      res.end(protocol === "openai" ? "data: [DONE]\n\n" : "");
    } else if (protocol === "anthropic") {
      sendJson(res, 200, {
        id: "msg_1",
        type: "message",
        role: "assistant",
        model: modelOf(body),
        content: [{ type: "text", text }],
        stop_reason: "end_turn",
        stop_sequence: null,
        usage: { input_tokens: FAKE_USAGE.input, output_tokens: FAKE_USAGE.output },
      });
    } else {
      sendJson(res, 200, {
        id: "chatcmpl-1",
        object: "chat.completion",
        created: 1,
        model: modelOf(body),
        choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }],
        usage: {
          prompt_tokens: FAKE_USAGE.input,
          completion_tokens: FAKE_USAGE.output,
          total_tokens: FAKE_USAGE.input + FAKE_USAGE.output,
        },
      });
    }
  }
}

type Protocol = "openai" | "anthropic" | "embeddings" | "moderations";

function protocolOf(path: string): Protocol {
  if (path.endsWith("/messages")) return "anthropic";
  if (path.endsWith("/embeddings")) return "embeddings";
  if (path.endsWith("/moderations")) return "moderations";
  return "openai";
}

function isStreaming(body: unknown): boolean {
  return typeof body === "object" && body !== null && "stream" in body && body.stream === true;
}

function modelOf(body: unknown): string {
  return typeof body === "object" && body !== null && "model" in body && typeof body.model === "string"
    ? body.model
    : "unknown";
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

function startSse(res: ServerResponse): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  res.flushHeaders();
}

function errorBody(status: number): unknown {
  return {
    error: { message: `fake error ${status}`, type: status === 429 ? "rate_limit_error" : "api_error" },
  };
}

function emptyBody(protocol: Protocol): unknown {
  if (protocol === "anthropic") {
    return { id: "msg_1", type: "message", role: "assistant", content: [], usage: { input_tokens: 1 } };
  }
  return { id: "chatcmpl-1", object: "chat.completion", created: 1, model: "m", choices: [] };
}

function sse(data: unknown, event?: string): string {
  return `${event === undefined ? "" : `event: ${event}\n`}data: ${JSON.stringify(data)}\n\n`;
}

/** The SSE events of a streamed answer, deltas in order (without the OpenAI `[DONE]` terminator). */
function streamEvents(protocol: Protocol, deltas: readonly string[], body: unknown): string[] {
  const model = modelOf(body);
  if (protocol === "anthropic") {
    const event = (type: string, data: object): string => sse({ type, ...data }, type);
    return [
      event("message_start", {
        message: {
          id: "msg_1",
          type: "message",
          role: "assistant",
          model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: FAKE_USAGE.input, output_tokens: 1 },
        },
      }),
      event("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
      ...deltas.map((text) =>
        event("content_block_delta", { index: 0, delta: { type: "text_delta", text } }),
      ),
      event("content_block_stop", { index: 0 }),
      event("message_delta", {
        delta: { stop_reason: "end_turn", stop_sequence: null },
        usage: { output_tokens: FAKE_USAGE.output },
      }),
      event("message_stop", {}),
    ];
  }
  const chunk = (choices: unknown[], usage?: unknown): string =>
    sse({ id: "chatcmpl-1", object: "chat.completion.chunk", created: 1, model, choices, usage });
  const wantsUsage =
    typeof body === "object" &&
    body !== null &&
    "stream_options" in body &&
    JSON.stringify(body.stream_options).includes('"include_usage":true');
  return [
    ...deltas.map((content) => chunk([{ index: 0, delta: { content }, finish_reason: null }])),
    chunk([{ index: 0, delta: {}, finish_reason: "stop" }]),
    ...(wantsUsage
      ? [
          chunk([], {
            prompt_tokens: FAKE_USAGE.input,
            completion_tokens: FAKE_USAGE.output,
            total_tokens: FAKE_USAGE.input + FAKE_USAGE.output,
          }),
        ]
      : []),
  ];
}
