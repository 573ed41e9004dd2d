/**
 * The `http` section: browser-facing settings of the Connect listener (BASE-SEC-e). The
 * security headers themselves need no setting; the CORS allow-list and the browser playground
 * (DOC-004) do.
 */
import { z } from "zod";
import { key, oneOf, optionalText } from "./meta.js";

/** Values of `http.playground`: auto serves it except in secure mode. */
export const PLAYGROUND_SETTINGS = ["auto", "on", "off"] as const;

/** Whether the Connect listener serves the playground at /playground. */
export function playgroundEnabled(
  setting: (typeof PLAYGROUND_SETTINGS)[number],
  secureMode: boolean,
): boolean {
  return setting === "on" || (setting === "auto" && !secureMode);
}

/** The origins of a comma-separated allow-list, trimmed, empty entries dropped. */
export function parseOrigins(list: string): string[] {
  return list
    .split(",")
    .map((origin) => origin.trim())
    .filter((origin) => origin !== "");
}

/** Why `origin` is not an exact browser origin (scheme://host[:port]), or undefined when it is. */
export function originProblem(origin: string): string | undefined {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return `"${origin}" is not a URL`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return `"${origin}" is not http or https`;
  if (url.origin !== origin) return `"${origin}" is not an exact origin (write ${url.origin})`;
  return undefined;
}

/** The `http` section. */
export const httpSection = z
  .strictObject({
    corsOrigins: key(optionalText(), {
      env: "MLSDM_CORS_ORIGINS",
      description:
        "Comma-separated browser origins (scheme://host[:port], no wildcard) allowed to call the Connect listener cross-origin. Empty: no cross-origin browser access.",
    }),
    playground: key(oneOf(PLAYGROUND_SETTINGS, "auto"), {
      env: "MLSDM_PLAYGROUND",
      description:
        "Serve the browser playground at /playground on the Connect listener (built by npm run build): on, off, or auto (on except in secure mode). See docs/playground.md.",
    }),
  })
  .superRefine((http, context) => {
    for (const origin of parseOrigins(http.corsOrigins)) {
      const problem = originProblem(origin);
      if (problem !== undefined) {
        context.addIssue({
          code: "custom",
          path: ["corsOrigins"],
          input: http.corsOrigins,
          message: `comma-separated origins such as https://app.example.com: ${problem}`,
        });
        return;
      }
    }
  })
  .prefault({});
