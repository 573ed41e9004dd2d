/**
 * The server a command talks to: `--url` or `MLSDM_URL` (default http://127.0.0.1:8080), the
 * protocol, TLS files, the API key (`MLSDM_CLIENT_API_KEY`) and the signing key
 * (`MLSDM_CLIENT_SIGNING_KEY=id=secret`) from the environment, never from flags, so they stay
 * out of shell history and process lists.
 */
import { readFileSync } from "node:fs";
import {
  createMlsdmClient,
  parseServerUrl,
  ServerUrlError,
  type ClientTlsOptions,
  type MlsdmClient,
  type TransportKind,
} from "../client/index.js";
import { usageError } from "./exit-codes.js";
import type { ProgressMode } from "./progress.js";

/** The default server: the HTTP listener on this machine. */
export const DEFAULT_URL = "http://127.0.0.1:8080";

/** Options every command shares (set on the root command). */
export interface GlobalOptions {
  readonly url?: string;
  readonly transport?: TransportKind;
  readonly json?: boolean;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly servername?: string;
  readonly timeout: number;
  readonly progress: ProgressMode;
}

type Env = Readonly<Record<string, string | undefined>>;

function readPem(file: string | undefined, what: string): Buffer | undefined {
  if (file === undefined || file === "") return undefined;
  try {
    return readFileSync(file);
  } catch (error) {
    throw usageError(
      `cannot read the ${what} file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
}

function signingKey(env: Env): { keyId: string; secret: string } | undefined {
  const text = env.MLSDM_CLIENT_SIGNING_KEY;
  if (text === undefined || text === "") return undefined;
  const eq = text.indexOf("=");
  if (eq <= 0) throw usageError("MLSDM_CLIENT_SIGNING_KEY must be <key id>=<secret>");
  return { keyId: text.slice(0, eq), secret: text.slice(eq + 1) };
}

/** The URL a command uses. */
export function serverUrl(options: GlobalOptions, env: Env): string {
  const fromEnv = env.MLSDM_URL ?? "";
  return options.url ?? (fromEnv === "" ? DEFAULT_URL : fromEnv);
}

/** A client for the server named by `options` and `env`; usage errors for bad URLs or files. */
export function connect(options: GlobalOptions, env: Env = process.env): MlsdmClient {
  const url = serverUrl(options, env);
  try {
    parseServerUrl(url);
  } catch (error) {
    if (error instanceof ServerUrlError) throw usageError(error.message);
    throw error;
  }
  const ca = readPem(options.ca ?? env.MLSDM_CLIENT_CA, "CA");
  const cert = readPem(options.cert ?? env.MLSDM_CLIENT_CERT, "client certificate");
  const key = readPem(options.key ?? env.MLSDM_CLIENT_KEY, "client key");
  if ((cert === undefined) !== (key === undefined)) throw usageError("--cert and --key go together");
  const tls: ClientTlsOptions = {
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(options.servername ? { servername: options.servername } : {}),
  };
  const apiKey = env.MLSDM_CLIENT_API_KEY;
  const signing = signingKey(env);
  return createMlsdmClient({
    url,
    ...(options.transport ? { transport: options.transport } : {}),
    ...(apiKey ? { apiKey } : {}),
    ...(signing ? { signingKey: signing } : {}),
    tls,
    timeoutMs: options.timeout,
  });
}
