/**
 * EngineService.Generate and GenerateStream over the one GenerationEngine. The handlers turn
 * the call's HandlerContext into the engine's budget (cancellation signal and deadline),
 * map the results to the contract and the failures to catalogue errors.
 */
import type { HandlerContext } from "@connectrpc/connect";
import type { CallBudget, GenerationEngine } from "../../core/engine/engine.js";
import type { GenerationRequest, GenerationResult } from "../../core/engine/types.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type {
  GenerateRequest,
  GenerateResponseSchema,
  GenerateStreamRequest,
  GenerateStreamResponseSchema,
} from "../../gen/mlsdm/v1/engine_pb.js";
import { decisionMessage } from "./generation-messages.js";
import { generationError } from "./provider-errors.js";
import type { MlsdmError } from "../../telemetry/errors/index.js";

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
}

/**
 * The call's budget. The context's signal aborts on client cancellation, deadline and
 * shutdown; the engine and the providers tell a deadline from a cancellation by the abort
 * reason, so a deadline is re-signalled as a `TimeoutError` (as `AbortSignal.timeout` does).
 */
export function budgetFor(context: HandlerContext, clock: () => number): CallBudget {
  const remaining = context.timeoutMs();
  const controller = new AbortController();
  const relay = (): void => {
    const left = context.timeoutMs();
    const deadline = left !== undefined && left <= 0;
    controller.abort(
      deadline ? new DOMException("the call's deadline passed", "TimeoutError") : context.signal.reason,
    );
  };
  if (context.signal.aborted) relay();
  else context.signal.addEventListener("abort", relay, { once: true });
  return { signal: controller.signal, deadlineAt: remaining === undefined ? undefined : clock() + remaining };
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
    try {
      const result = await ctx.engine.generate(engineRequest(request), budgetFor(context, ctx.clock));
      ctx.onResult?.(result);
      return { text: result.text, decision: decisionMessage(result, request.enableDiagnostics) };
    } catch (error) {
      throw generationError(error, ctx.emergencyError);
    } finally {
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
    try {
      let index = 0;
      for await (const event of ctx.engine.stream(engineRequest(request), budgetFor(context, ctx.clock))) {
        if (event.kind === "delta") {
          yield { event: { case: "delta", value: { text: event.text, index } } };
          index += 1;
        } else {
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
      ctx.afterCall?.();
    }
  };
}
