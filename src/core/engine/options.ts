/**
 * What the engine is built from: its dependencies (the controller and the ports) and its
 * options (the `engine` configuration section, passed in by the composition root).
 */
import type { CognitiveController, SleepBehaviour } from "../controller.js";
import type { Clock } from "../ports.js";
import type { ContentScorer, Embedder, ModelGateway, PipelineTracer, TextScrubber } from "./ports.js";

/** Engine options (defaults and checks of the pipeline). */
export interface EngineOptions {
  readonly defaultMaxTokens: number;
  readonly defaultMoralValue: number;
  readonly defaultContextTopK: number;
  readonly sleepBehaviour: SleepBehaviour;
  readonly sleepMaxTokens: number;
  /** The answer is withheld when its score is below the applied moral value minus this. */
  readonly postMoralTolerance: number;
  readonly contextTextMaxBytes: number;
  readonly aphasiaDetect: boolean;
  readonly aphasiaRepair: boolean;
  readonly aphasiaSeverityThreshold: number;
  /** Streaming: characters of the latest text the scorer judges per check. */
  readonly streamWindowChars: number;
  /** Streaming: new characters held back and checked before they are sent. */
  readonly streamCheckChars: number;
}

/** The defaults of the `engine` configuration section. */
export const ENGINE_DEFAULTS: EngineOptions = {
  defaultMaxTokens: 512,
  defaultMoralValue: 1,
  defaultContextTopK: 5,
  sleepBehaviour: "short_answers",
  sleepMaxTokens: 150,
  postMoralTolerance: 0.15,
  contextTextMaxBytes: 1024,
  aphasiaDetect: true,
  aphasiaRepair: true,
  aphasiaSeverityThreshold: 0.3,
  streamWindowChars: 400,
  streamCheckChars: 80,
};

/** The engine's collaborators. */
export interface EngineDeps {
  readonly controller: CognitiveController;
  readonly gateway: ModelGateway;
  readonly embedder: Embedder;
  readonly scorer: ContentScorer;
  readonly scrub: TextScrubber;
  readonly clock: Clock;
  readonly tracer?: PipelineTracer;
}

/** Intent used when a request leaves user_intent empty. */
export const DEFAULT_INTENT = "conversational";
