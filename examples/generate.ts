/**
 * Example: generate text through MLSDM, streamed, with the typed client.
 *
 *   MLSDM_URL=grpc://127.0.0.1:50051 npx tsx examples/generate.ts "Tell me about the tides"
 *
 * MLSDM_CLIENT_API_KEY is sent as the API key when set. Prints the answer, then the decision.
 */
/* eslint-disable no-console -- an example program prints its results */
import { createMlsdmClient, MlsdmError } from "../src/client/index.js";

const mlsdm = createMlsdmClient({
  url: process.env.MLSDM_URL ?? "grpc://127.0.0.1:50051",
  ...(process.env.MLSDM_CLIENT_API_KEY ? { apiKey: process.env.MLSDM_CLIENT_API_KEY } : {}),
});
const prompt = process.argv.slice(2).join(" ") || "Tell me about the tides.";
try {
  for await (const message of mlsdm.engine.generateStream({ prompt, maxTokens: 128 })) {
    if (message.event.case === "delta") process.stdout.write(message.event.value.text);
    if (message.event.case === "summary") {
      const decision = message.event.value.decision;
      console.log(`\naccepted: ${String(decision?.accepted)}, moral threshold ${decision?.moralThreshold}`);
    }
  }
} catch (error) {
  if (!(error instanceof MlsdmError)) throw error;
  console.error(error.describe()); // e.g. "E602 RATE_LIMITED: ... (retry after 0.2 s)"
  process.exitCode = error.connection ? 3 : 4;
} finally {
  mlsdm.close();
}
