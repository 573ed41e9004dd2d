/**
 * The grpc-js listener's HandlerContext (src/transport/grpc/handler-context.ts): built by hand
 * instead of with connect's createHandlerContext (one AbortController per call, abort reasons made
 * once; ADR 0021), so it must keep that function's behaviour: the signal fires on a client
 * cancel, at the deadline and at forced shutdown with a reason of the right code, `abort()`
 * ends it, and nothing stays registered on the shared shutdown signal after the call.
 */
import { EventEmitter, getEventListeners } from "node:events";
import { Code, ConnectError } from "@connectrpc/connect";
import { Metadata } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { EngineService } from "../../src/gen/mlsdm/v1/engine_pb.js";
import { handlerContextFor } from "../../src/transport/grpc/handler-context.js";

const method = EngineService.method.processEvent;

/** The parts of a grpc-js server call the context reads. */
function fakeCall(deadline = Infinity) {
  const metadata = new Metadata();
  metadata.set("x-request-id", "abc");
  metadata.set("trace-bin", Buffer.from([1, 2, 3]));
  return Object.assign(new EventEmitter(), {
    metadata,
    getDeadline: () => deadline,
    getHost: () => "127.0.0.1:50051",
    getAuthContext: () => ({}),
  });
}

type Call = Parameters<typeof handlerContextFor>[1];
const build = (call: ReturnType<typeof fakeCall>, shutdown: AbortSignal) =>
  handlerContextFor(method, call as unknown as Call, shutdown);

function codeOf(reason: unknown): Code | undefined {
  return reason instanceof ConnectError ? reason.code : undefined;
}

describe("grpc-js handler context", () => {
  it("carries the method, headers (binary values base64) and no deadline when none is set", () => {
    const shutdown = new AbortController();
    const context = build(fakeCall(), shutdown.signal);
    expect(context.method).toBe(method);
    expect(context.service).toBe(EngineService);
    expect(context.protocolName).toBe("grpc");
    expect(context.url).toBe("http://127.0.0.1:50051/mlsdm.v1.EngineService/ProcessEvent");
    expect(context.requestHeader.get("x-request-id")).toBe("abc");
    expect(context.requestHeader.get("trace-bin")).toBe("AQID");
    expect(context.timeoutMs()).toBeUndefined();
    expect(context.signal.aborted).toBe(false);
    context.abort();
    expect(codeOf(context.signal.reason)).toBe(Code.Canceled);
  });

  it("fires with Canceled when the client cancels, and leaves nothing on the shutdown signal", () => {
    const shutdown = new AbortController();
    const call = fakeCall();
    const context = build(call, shutdown.signal);
    expect(getEventListeners(shutdown.signal, "abort")).toHaveLength(0); // nothing until signal is read
    expect(context.signal.aborted).toBe(false);
    expect(getEventListeners(shutdown.signal, "abort")).toHaveLength(1);
    call.emit("cancelled", "cancelled");
    expect(context.signal.aborted).toBe(true);
    expect(codeOf(context.signal.reason)).toBe(Code.Canceled);
    expect(getEventListeners(shutdown.signal, "abort")).toHaveLength(0);
    context.abort(); // later ends change nothing
    expect(codeOf(context.signal.reason)).toBe(Code.Canceled);
  });

  it("fires with DeadlineExceeded at the client's deadline, and counts the time down", async () => {
    const shutdown = new AbortController();
    const context = build(fakeCall(Date.now() + 40), shutdown.signal);
    const left = context.timeoutMs();
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(40);
    expect(context.signal.aborted).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(context.signal.aborted).toBe(true);
    expect(codeOf(context.signal.reason)).toBe(Code.DeadlineExceeded);
    expect(context.timeoutMs()).toBeLessThanOrEqual(0);
  });

  it("a deadline already passed fires at once; abort() before the deadline stops the timer", async () => {
    const shutdown = new AbortController();
    const late = build(fakeCall(Date.now() - 5), shutdown.signal);
    expect(codeOf(late.signal.reason)).toBe(Code.DeadlineExceeded);
    const early = build(fakeCall(Date.now() + 30), shutdown.signal);
    early.abort();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(codeOf(early.signal.reason)).toBe(Code.Canceled);
  });

  it("fires with the shutdown signal's reason at forced shutdown, also when already shut down", () => {
    const shutdown = new AbortController();
    const context = build(fakeCall(), shutdown.signal);
    const reason = new ConnectError("server stopping", Code.Unavailable);
    shutdown.abort(reason);
    expect(context.signal.reason).toBe(reason);
    const after = build(fakeCall(), shutdown.signal);
    expect(after.signal.aborted).toBe(true);
    expect(after.signal.reason).toBe(reason);
  });

  it("a signal first read after the call ended, was cancelled or the deadline passed is already aborted", async () => {
    const shutdown = new AbortController();
    const ended = build(fakeCall(), shutdown.signal);
    ended.abort();
    expect(codeOf(ended.signal.reason)).toBe(Code.Canceled);
    const call = fakeCall();
    const cancelled = build(call, shutdown.signal);
    call.emit("cancelled", "cancelled");
    expect(codeOf(cancelled.signal.reason)).toBe(Code.Canceled);
    const late = build(fakeCall(Date.now() + 20), shutdown.signal);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(codeOf(late.signal.reason)).toBe(Code.DeadlineExceeded);
    expect(getEventListeners(shutdown.signal, "abort")).toHaveLength(0);
  });

  it("ends without building a DOMException (abort reasons are made once)", () => {
    const shutdown = new AbortController();
    const reasons = new Set<unknown>();
    for (let i = 0; i < 3; i++) {
      const context = build(fakeCall(), shutdown.signal);
      context.abort();
      expect(context.signal.reason).not.toBeInstanceOf(DOMException);
      reasons.add(context.signal.reason);
    }
    expect(reasons.size).toBe(1);
    expect(getEventListeners(shutdown.signal, "abort")).toHaveLength(0);
  });
});
