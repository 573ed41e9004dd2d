/**
 * Scrubs every span before it is exported (BASE-SEC-d): string (and string array) attributes,
 * the status message and event attributes (an exception's message may quote a prompt) go
 * through the process-wide PII detector. It runs in the SDK's `onEnding` hook, while the span
 * is still writable, so no exporter and no later processor ever sees the raw text; startTracing
 * puts it first in the processor list.
 */
import type { AttributeValue, Attributes } from "@opentelemetry/api";
import type { ReadableSpan, Span, SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { scrubPii } from "../pii/index.js";

function scrubValue(value: AttributeValue | undefined): AttributeValue | undefined {
  if (typeof value === "string") return scrubPii(value);
  if (Array.isArray(value) && value.some((item) => typeof item === "string")) {
    return (value as unknown[]).map((item) =>
      typeof item === "string" ? scrubPii(item) : item,
    ) as AttributeValue;
  }
  return undefined;
}

/** The scrubbed copy of each changed string value in `attributes` (nothing when none changed). */
function changed(attributes: Attributes): [string, AttributeValue][] {
  const out: [string, AttributeValue][] = [];
  for (const [name, value] of Object.entries(attributes)) {
    const scrubbed = scrubValue(value);
    if (scrubbed !== undefined && JSON.stringify(scrubbed) !== JSON.stringify(value))
      out.push([name, scrubbed]);
  }
  return out;
}

/** A span processor that only scrubs; it exports nothing. */
export class ScrubbingSpanProcessor implements SpanProcessor {
  onStart(): void {
    // Attributes given at start are scrubbed with the rest when the span ends.
  }

  onEnding(span: Span): void {
    for (const [name, value] of changed(span.attributes)) span.setAttribute(name, value);
    const message = span.status.message;
    if (message !== undefined && message !== "") {
      const scrubbed = scrubPii(message);
      if (scrubbed !== message) span.setStatus({ ...span.status, message: scrubbed });
    }
    for (const event of span.events) {
      if (!event.attributes) continue;
      // Events are plain records owned by the span; rewriting their values in place is the
      // only way to reach them (the API has no setter for recorded events).
      const attributes = event.attributes as Record<string, AttributeValue | undefined>;
      for (const [name, value] of changed(event.attributes)) attributes[name] = value;
    }
  }

  onEnd(_span: ReadableSpan): void {
    // Nothing to do: scrubbing happened in onEnding.
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
