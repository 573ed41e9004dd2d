/**
 * Failures of the Generate pipeline → catalogue errors (W9: a provider failure is an error
 * status with ErrorInfo and RetryInfo, never text in a successful response).
 */
import { EngineRefused } from "../../core/engine/types.js";
import { ProviderFailure } from "../../core/engine/ports.js";
import { MlsdmError, type ErrorReason } from "../../telemetry/errors/index.js";

function reasonFor(failure: ProviderFailure): ErrorReason {
  switch (failure.kind) {
    case "timeout":
      // "engine" marks the call's own deadline, as opposed to a provider's slowness.
      return failure.details.providerId === "engine" ? "DEADLINE_EXCEEDED" : "LLM_TIMEOUT";
    case "rate_limited":
      return "PROVIDER_QUOTA_EXCEEDED";
    case "unavailable":
      return "PROVIDER_UNAVAILABLE";
    case "circuit_open":
      return "CIRCUIT_OPEN";
    case "invalid_response":
      return failure.details.providerId === "embedder" ? "EMBEDDING_INVALID" : "PROVIDER_INVALID_RESPONSE";
    case "rejected":
      return "PROVIDER_ERROR";
    case "cancelled":
      return "CANCELLED";
  }
}

/**
 * The catalogue error for a pipeline failure; other errors pass through unchanged (the policy
 * chain turns unknown ones into INTERNAL). `emergency` builds the error of a refused call.
 */
export function generationError(error: unknown, emergency: () => MlsdmError): unknown {
  if (error instanceof ProviderFailure) {
    return new MlsdmError(reasonFor(error), {
      detail: error.message,
      metadata: { provider: error.details.providerId, failure: error.kind },
      ...(error.details.retryAfterMs === undefined ? {} : { retryDelayMs: error.details.retryAfterMs }),
      cause: error,
    });
  }
  if (error instanceof EngineRefused) return emergency();
  return error;
}
