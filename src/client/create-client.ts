/**
 * `createMlsdmClient`: typed Engine, Admin and Health clients for one MLSDM server, over gRPC,
 * Connect or gRPC-Web, with the API key, request signing, `x-request-id`, retries of what the
 * server says is retryable, an overall deadline per call, and every failure as an `MlsdmError`.
 */
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import {
  createClient,
  createContextValues,
  type CallOptions,
  type Client,
  type Interceptor,
} from "@connectrpc/connect";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { AdminService } from "../gen/mlsdm/v1/admin_pb.js";
import { EngineService } from "../gen/mlsdm/v1/engine_pb.js";
import { callStateKey, type CallState } from "./call-state.js";
import { MlsdmError } from "./errors.js";
import { apiKeyInterceptor, requestIdInterceptor } from "./headers.js";
import { retryInterceptor, type RetryPolicy } from "./retry.js";
import { connectSigningInterceptor, type KeySource } from "./signing.js";
import {
  createMlsdmTransport,
  parseServerUrl,
  type ClientTlsOptions,
  type TransportKind,
} from "./transport.js";

/** Options of {@link createMlsdmClient}. */
export interface MlsdmClientOptions {
  /** `http(s)://host:port` (HTTP listener) or `grpc(s)://host:port` (grpc-js listener). */
  readonly url: string;
  /** The protocol; default: Connect for http(s), gRPC for grpc(s). */
  readonly transport?: TransportKind;
  /** An API key, sent as `authorization: Bearer <key>`. */
  readonly apiKey?: string | (() => string);
  /** A request-signing key (`x-mlsdm-key-id`, `x-mlsdm-signature`); each attempt is signed. */
  readonly signingKey?: KeySource;
  /** CA, client certificate and key for https/grpcs (mTLS when cert and key are given). */
  readonly tls?: ClientTlsOptions;
  /**
   * Overall deadline of each call in ms, retries included (default 30 000; 0 for none, e.g. for
   * Health.Watch); a call's own `timeoutMs` wins, and 0 there means no deadline too.
   */
  readonly timeoutMs?: number;
  /** Retry pacing, or `false` to never retry. */
  readonly retry?: RetryPolicy | false;
  /** Extra interceptors, run on every attempt after the client's own. */
  readonly interceptors?: readonly Interceptor[];
}

/** The typed clients of one server. Every call rejects with {@link MlsdmError}. */
export interface MlsdmClient {
  readonly engine: Client<typeof EngineService>;
  readonly admin: Client<typeof AdminService>;
  readonly health: Client<typeof Health>;
  /** The URL the client was made for. */
  readonly url: string;
  /** The protocol spoken. */
  readonly transport: TransportKind;
  /** Closes the client's connections (calls after this open new ones). */
  close(): void;
}

const DEFAULT_TIMEOUT_MS = 30_000;

function prepare(options: CallOptions | undefined, timeoutMs: number): [CallOptions, CallState] {
  const effective = options?.timeoutMs ?? timeoutMs;
  const state: CallState = {
    deadlineAtMs: effective > 0 ? Date.now() + effective : undefined,
    requestId: undefined,
    attempts: 0,
  };
  const contextValues = options?.contextValues ?? createContextValues();
  contextValues.set(callStateKey, state);
  // 0 or less means no deadline (Connect itself would expire such a call at once).
  const { timeoutMs: _ignored, ...rest } = options ?? {};
  return [{ ...rest, ...(effective > 0 ? { timeoutMs: effective } : {}), contextValues }, state];
}

function failure(error: unknown, state: CallState): MlsdmError {
  return MlsdmError.from(error, { requestId: state.requestId, attempts: Math.max(1, state.attempts) });
}

/** `client` with its calls' options completed and their failures turned into MlsdmError. */
function wrap<S extends DescService>(service: S, client: Client<S>, timeoutMs: number): Client<S> {
  const calls = client as unknown as Record<string, (input: unknown, options?: CallOptions) => unknown>;
  const wrapped: Record<string, unknown> = {};
  for (const method of service.methods as readonly DescMethod[]) {
    const call = calls[method.localName];
    if (call === undefined) continue;
    if (method.methodKind === "server_streaming") {
      wrapped[method.localName] = (input: unknown, options?: CallOptions) => {
        const [effective, state] = prepare(options, timeoutMs);
        return (async function* () {
          try {
            yield* call(input, effective) as AsyncIterable<unknown>;
          } catch (error) {
            throw failure(error, state);
          }
        })();
      };
    } else {
      wrapped[method.localName] = async (input: unknown, options?: CallOptions) => {
        const [effective, state] = prepare(options, timeoutMs);
        try {
          return await (call(input, effective) as Promise<unknown>);
        } catch (error) {
          throw failure(error, state);
        }
      };
    }
  }
  return wrapped as Client<S>;
}

/**
 * Creates the clients for one MLSDM server.
 *
 * @example
 * const mlsdm = createMlsdmClient({ url: "grpc://127.0.0.1:50051", apiKey: process.env.MLSDM_CLIENT_API_KEY });
 * const { text } = await mlsdm.engine.generate({ prompt: "Hello" });
 */
export function createMlsdmClient(options: MlsdmClientOptions): MlsdmClient {
  const address = parseServerUrl(options.url);
  const kind = options.transport ?? address.transport;
  const interceptors: Interceptor[] = [
    requestIdInterceptor(),
    ...(options.retry === false
      ? []
      : [retryInterceptor({ ...options.retry, newSecondPerAttempt: options.signingKey !== undefined })]),
    ...(options.apiKey === undefined ? [] : [apiKeyInterceptor(options.apiKey)]),
    ...(options.signingKey === undefined ? [] : [connectSigningInterceptor(options.signingKey)]),
    ...(options.interceptors ?? []),
  ];
  const owned = createMlsdmTransport(address, kind, interceptors, options.tls);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const make = <S extends DescService>(service: S) =>
    wrap(service, createClient(service, owned.transport), timeoutMs);
  return {
    engine: make(EngineService),
    admin: make(AdminService),
    health: make(Health),
    url: options.url,
    transport: kind,
    close: () => {
      owned.close();
    },
  };
}
