/**
 * The text around the model call: the prompt with retrieved context in front of it, and the
 * text stored with an accepted exchange so a later request can use it as context (W7 fix:
 * real snippets, not "[Context i, relevance: x]" labels).
 */
import { capUtf8 } from "../context-texts.js";
import type { ContextMatch } from "../controller.js";

/** The prompt sent to the model: context items (best first), then the user's prompt. */
export function buildPrompt(prompt: string, context: readonly ContextMatch[]): string {
  const items = context.filter((item) => item.text !== "");
  if (items.length === 0) return prompt;
  const blocks = items.map(
    (item, i) => `[Context ${i + 1}, relevance ${item.resonance.toFixed(2)}]\n${item.text}`,
  );
  return `${blocks.join("\n\n")}\n\nUser: ${prompt}`;
}

/** The text stored beside an exchange's vector: scrubbed, then capped in UTF-8 bytes. */
export function exchangeText(
  prompt: string,
  answer: string,
  scrub: (text: string) => string,
  maxBytes: number,
): string {
  if (maxBytes <= 0) return "";
  return capUtf8(scrub(`User: ${prompt}\nAssistant: ${answer}`), maxBytes);
}
