/**
 * The one way adapters build an `openai` SDK client: no SDK retries (resilience is ours), no
 * SDK logging (it would print response bodies), and no organisation, project or webhook secret
 * read from the environment — only what the configuration passes in.
 */
import OpenAI from "openai";

/** A client for an OpenAI-compatible API at `baseUrl`. */
export function openAiClient(options: { apiKey: string; baseUrl: string; timeoutMs?: number }): OpenAI {
  return new OpenAI({
    apiKey: options.apiKey,
    baseURL: options.baseUrl,
    maxRetries: 0,
    logLevel: "off",
    organization: null,
    project: null,
    webhookSecret: null,
    ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
  });
}
