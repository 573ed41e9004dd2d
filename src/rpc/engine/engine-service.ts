/**
 * EngineService over one cognitive controller: ProcessEvent, RetrieveContext and GetState
 * here; Generate and GenerateStream run the engine pipeline (`generation-handlers.ts`) over
 * the same controller.
 *
 * Requests arrive validated against the contract (dimension, finiteness, ranges), so the
 * handlers only convert and call the synchronous controller: no state change spans an await.
 */
import type { ServiceImpl } from "@connectrpc/connect";
import type { CognitiveController, EventOutcome } from "../../core/controller.js";
import { PelmValidationError } from "../../core/pelm.js";
import type { EngineService } from "../../gen/mlsdm/v1/engine_pb.js";
import { MlsdmError } from "../../telemetry/errors/index.js";
import { emergencyError } from "./emergency-error.js";
import {
  durably,
  generateHandler,
  generateStreamHandler,
  type GenerationContext,
} from "./generation-handlers.js";
import { phaseMessage, rejectionMessage, stateMessage, type WallClock } from "../state-message.js";

/** PELM's refusals (e.g. an all-zero vector) as the catalogue's INVALID_ARGUMENT errors. */
function refused<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (!(error instanceof PelmValidationError)) throw error;
    throw new MlsdmError("VALIDATION_FAILED", {
      detail: error.message,
      fieldViolations: [
        {
          field: error.index === undefined ? error.field : `${error.field}[${error.index}]`,
          description: error.message,
        },
      ],
    });
  }
}

/** Default number of context items when RetrieveContext leaves top_k unset. */
export const DEFAULT_TOP_K = 5;

/** Builds the Engine implementation over `controller`. */
export function createEngineService(
  controller: CognitiveController,
  wall: WallClock,
  generation: GenerationContext,
  afterEvent: (outcome: EventOutcome, moralValue: number) => void = () => undefined,
): ServiceImpl<typeof EngineService> {
  return {
    generate: generateHandler(generation),
    generateStream: generateStreamHandler(generation),
    async processEvent(request) {
      const outcome = refused(() =>
        controller.processEvent(new Float32Array(request.vector), request.moralValue),
      );
      afterEvent(outcome, request.moralValue);
      if (outcome.memoryUpdated) await durably(generation);
      if (outcome.rejection === "emergency_shutdown" || outcome.rejection === "process_memory_exceeded") {
        // REL-001: engine calls fail fast while the brake is engaged, with the reason and RetryInfo.
        throw emergencyError(controller, performance.now());
      }
      return {
        state: stateMessage(outcome.state, wall),
        accepted: outcome.accepted,
        rejectionReason: rejectionMessage(outcome.rejection),
        note: outcome.note,
        memoryUpdated: outcome.memoryUpdated,
        processingMs: outcome.processingMs,
      };
    },
    retrieveContext(request) {
      const matches = refused(() =>
        controller.retrieve(
          new Float32Array(request.queryVector),
          request.topK ?? DEFAULT_TOP_K,
          request.includeVectors,
        ),
      );
      const phase = controller.rhythm.phase;
      return {
        phase: phaseMessage(phase),
        items: matches.map((match) => ({
          slot: match.slot,
          phaseValue: match.phase,
          resonance: match.resonance,
          vector: match.vector ? Array.from(match.vector) : [],
          text: controller.texts.get(match.slot),
        })),
      };
    },
    getState() {
      return { state: stateMessage(controller.state(), wall) };
    },
  };
}
