/**
 * The prompt PII policy (BASE-SEC-d, request side): before EngineService.Generate or
 * GenerateStream runs, the detector that scrubs logs looks at the prompt, the only free text of
 * the request that reaches the model provider (and the embedding and moderation providers).
 * Per entity type the operator chooses:
 *
 * - `allow`: the text goes through unchanged;
 * - `mask`: the finding is replaced by its placeholder (`[CARD]`) in the request itself, so the
 *   handler, the providers and stored memory only ever see the masked prompt;
 * - `block`: the call fails with INVALID_ARGUMENT E108 and a BadRequest violation on `prompt`
 *   naming the entity types found (never the matched text).
 *
 * Both outcomes write a security event (`prompt_pii_masked` / `prompt_pii_blocked`) with the
 * counts by type. User intent and user id are routing keys, not sent to any provider.
 */
import type { HandlerContext } from "@connectrpc/connect";
import type { PromptPiiAction } from "../config/schema-pii.js";
import { MlsdmError } from "../telemetry/errors/index.js";
import type { PiiDetector } from "../telemetry/pii/index.js";
import { security } from "./authenticate.js";
import { IDENTITY } from "./identity.js";
import type { Policy } from "./policy.js";

/** The methods whose `prompt` is sent to a model. */
export const PROMPT_METHODS: ReadonlySet<string> = new Set([
  "/mlsdm.v1.EngineService/Generate",
  "/mlsdm.v1.EngineService/GenerateStream",
]);

/**
 * Longest prompt worth scanning, in UTF-16 units: the contract allows 10,000 code points (at
 * most 20,000 units); anything longer fails validation right after the policies anyway.
 */
const MAX_SCANNED_UNITS = 20_000;

/** What the policy needs. */
export interface PromptPiiOptions {
  readonly detector: PiiDetector;
  /** Action by entity type (built-in and custom); a type not listed is allowed. */
  readonly actions: Readonly<Record<string, PromptPiiAction>>;
}

function typesWith(
  actions: Readonly<Record<string, PromptPiiAction>>,
  wanted: PromptPiiAction[],
): Set<string> {
  return new Set(
    Object.entries(actions)
      .filter(([, action]) => wanted.includes(action))
      .map(([type]) => type),
  );
}

function pick(counts: Readonly<Record<string, number>>, types: readonly string[]): Record<string, number> {
  return Object.fromEntries(types.map((type) => [type, counts[type] ?? 0]));
}

/** The policy, or undefined when every type is allowed (nothing to do on the request path). */
export function promptPii(options: PromptPiiOptions): Policy | undefined {
  const inspected = typesWith(options.actions, ["mask", "block"]);
  const blocking = typesWith(options.actions, ["block"]);
  if (inspected.size === 0) return undefined;
  return (context: HandlerContext, request: unknown) => {
    const path = `/${context.service.typeName}/${context.method.name}`;
    if (!PROMPT_METHODS.has(path) || typeof request !== "object" || request === null) return;
    const message = request as { prompt?: unknown };
    const prompt = message.prompt;
    if (typeof prompt !== "string" || prompt === "" || prompt.length > MAX_SCANNED_UNITS) return;
    const { text, counts } = options.detector.redact(prompt, inspected);
    const found = Object.keys(counts);
    if (found.length === 0) return;
    const identity = context.values.get(IDENTITY)?.id ?? "";
    const blocked = found.filter((type) => blocking.has(type));
    if (blocked.length > 0) {
      security("prompt_pii_blocked", {
        method: context.method.name,
        identity_id: identity,
        entities: pick(counts, blocked),
      });
      throw new MlsdmError("PROMPT_CONTAINS_PII", {
        metadata: { entities: blocked.join(",") },
        fieldViolations: [
          {
            field: "prompt",
            reason: "PROMPT_CONTAINS_PII",
            description: `contains ${blocked.join(", ")}, which this server does not forward to the model`,
          },
        ],
      });
    }
    message.prompt = text;
    security("prompt_pii_masked", { method: context.method.name, identity_id: identity, entities: counts });
  };
}
