/**
 * EngineService.Generate and GenerateStream over the one GenerationEngine. The handlers turn
 * the call's HandlerContext into the engine's budget (cancellation signal and deadline),
 * map the results to the contract and the failures to catalogue errors.
 */
import type { HandlerContext } from "@connectrpc/connect";
import type { CallBudget, GenerationEngine } from "../../core/engine/engine.js";
import type { GenerationRequest, GenerationResult } from "../../core/engine/types.js";
import type { TokenUsage } from "../../core/engine/ports.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type {
  GenerateRequest,
  GenerateResponseSchema,
  GenerateStreamRequest,
  GenerateStreamResponseSchema,
} from "../../gen/mlsdm/v1/engine_pb.js";
import { decisionMessage } from "./generation-messages.js";
import { generationError } from "./provider-errors.js";
import { MlsdmError } from "../../telemetry/errors/index.js";
import { createOtelPipelineTracer } from "../../telemetry/tracing/pipeline-tracer.js";

/** Spans the wait for the journal commit of a call's memory write. */
const persistenceTracer = createOtelPipelineTracer();

/** What the handlers need. */
export interface GenerationContext {
  readonly engine: GenerationEngine;
  /** The engine's clock (monotonic ms), for the absolute deadline. */
  readonly clock: () => number;
  /** The error of a call refused because the emergency brake is engaged (E701 / E704). */
  readonly emergencyError: () => MlsdmError;
  /** Called with every finished generation (metrics). */
  readonly onResult?: (result: GenerationResult) => void;
  /** Called after every call that reached the controller (health follows the brake). */
  readonly afterCall?: () => void;
  /** Resolves once the memory writes made so far are durable (journal committed). */
  readonly persisted?: () => Promise<void>;
  /** The usage callback of one call's model calls (per-identity token quotas), if metered. */
  readonly meter?: (context: HandlerContext) => ((usage: TokenUsage) => void) | undefined;
  /** Server caps on the call's deadline, ms. */
  readonly deadlines: { readonly generateMs: number; readonly streamMs: number };
}

/**
 * The call's budget (REL-004): the effective deadline is the earlier of the client's and the
 * server's cap for the method. The context's signal aborts on client cancellation, deadline and
 * shutdown; the engine and the providers tell a deadline from a cancellation by the abort
 * reason, so a deadline is signalled as a `TimeoutError` (as `AbortSignal.timeout` does).
 * `release` clears the cap's timer when the call ends.
 */
export function budgetFor(
  context: HandlerContext,
  clock: () => number,
  capMs: number,
): CallBudget & { release(): void } {
  const client = context.timeoutMs();
  const remaining = client === undefined ? capMs : Math.min(client, capMs);
  const controller = new AbortController();
  const deadline = (): void => {
    controller.abort(new DOMException("the call's deadline passed", "TimeoutError"));
  };
  const timer = setTimeout(deadline, Math.max(0, remaining));
  const relay = (): void => {
    const left = context.timeoutMs();
    if (left !== undefined && left <= 0) deadline();
    else controller.abort(context.signal.reason);
  };
  if (context.signal.aborted) relay();
  else context.signal.addEventListener("abort", relay, { once: true });
  return {
    signal: controller.signal,
    deadlineAt: clock() + remaining,
    release: () => {
      clearTimeout(timer);
      context.signal.removeEventListener("abort", relay);
    },
  };
}

/** Waits for the journal commit of this call's memory write; a failed commit is E406. */
export async function durably(ctx: { persisted?: () => Promise<void> }): Promise<void> {
  const persisted = ctx.persisted;
  if (!persisted) return;
  try {
    await persistenceTracer.span("mlsdm.persistence", () => persisted());
  } catch (error) {
    throw new MlsdmError("STORE_UNAVAILABLE", {
      detail: "the memory write was not made durable",
      cause: error,
    });
  }
}

function engineRequest(request: GenerateRequest | GenerateStreamRequest): GenerationRequest {
  return {
    prompt: request.prompt,
    maxTokens: request.maxTokens,
    moralValue: request.moralValue,
    contextTopK: request.contextTopK,
    userIntent: request.userIntent,
    userId: request.userId,
  };
}

/** The Generate handler. */
export function generateHandler(ctx: GenerationContext) {
  return async (
    request: GenerateRequest,
    context: HandlerContext,
  ): Promise<MessageInitShape<typeof GenerateResponseSchema>> => {
    const budget = budgetFor(context, ctx.clock, ctx.deadlines.generateMs);
    try {
      const result = await ctx.engine.generate(engineRequest(request), {
        ...budget,
        onUsage: ctx.meter?.(context),
      });
      if (result.storedSlot !== undefined) await durably(ctx);
      ctx.onResult?.(result);
      return { text: result.text, decision: decisionMessage(result, request.enableDiagnostics) };
    } catch (error) {
      throw generationError(error, ctx.emergencyError);
    } finally {
      budget.release();
      ctx.afterCall?.();
    }
  };
}

/** The GenerateStream handler: deltas, then exactly one summary. */
export function generateStreamHandler(ctx: GenerationContext) {
  return async function* (
    request: GenerateStreamRequest,
    context: HandlerContext,
  ): AsyncGenerator<MessageInitShape<typeof GenerateStreamResponseSchema>> {
    const budget = budgetFor(context, ctx.clock, ctx.deadlines.streamMs);
    try {
      let index = 0;
      const metered = { ...budget, onUsage: ctx.meter?.(context) };
      for await (const event of ctx.engine.stream(engineRequest(request), metered)) {
        if (event.kind === "delta") {
          yield { event: { case: "delta", value: { text: event.text, index } } };
          index += 1;
        } else {
          if (event.result.storedSlot !== undefined) await durably(ctx);
          ctx.onResult?.(event.result);
          yield {
            event: {
              case: "summary",
              value: {
                decision: decisionMessage(event.result, request.enableDiagnostics),
                deltaCount: event.deltaCount,
              },
            },
          };
        }
      }
    } catch (error) {
      throw generationError(error, ctx.emergencyError);
    } finally {
      budget.release();
      ctx.afterCall?.();
    }
  };
}
