/**
 * The `http` section: browser-facing settings of the Connect listener (BASE-SEC-e). The
 * security headers themselves need no setting; the CORS allow-list does.
 */
import { z } from "zod";
import { key, optionalText } from "./meta.js";

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
