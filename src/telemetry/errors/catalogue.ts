/**
 * The error catalogue: one table of every failure a client can see (DESIGN.md rule 4,
 * spec/production.md OBS-004).
 *
 * Why one table: the wire status, the machine-readable reason, the numeric code that logs,
 * metrics and alerts key on, the retry advice and the operator's runbook action must never
 * drift apart. Handlers throw `new MlsdmError("REASON")`; everything else (status code,
 * `google.rpc.ErrorInfo`, `RetryInfo`, the log field `error_code`, `docs/errors.md`) is read
 * from here. Codes and reasons are stable: removing or renumbering one is a breaking change
 * of the API (DOC-002); adding one is not.
 *
 * Numbering families (first digit): E1xx validation, E2xx auth, E3xx moral filter, E4xx
 * memory/state, E5xx rhythm, E6xx provider/LLM, E7xx system, E8xx config. Numbers that the
 * specifications name keep those numbers, including one documented exception: E602
 * RATE_LIMITED is a per-client admission limit, not a provider failure, but BASE-SEC-b fixes
 * its number (see {@link CODE_FAMILY_EXCEPTIONS}).
 *
 * This module depends only on `@connectrpc/connect` (for the canonical `Code` enum), as
 * telemetry depends on no other layer.
 */
import { Code } from "@connectrpc/connect";

/** `google.rpc.ErrorInfo.domain` of every error this service raises (a stable, logical name). */
export const ERROR_DOMAIN = "mlsdm.dev";

/**
 * The numbering families, by the first digit of the code (E1xx validation ... E8xx
 * configuration; "provider" covers the LLM and embedding providers). Exported so tests and
 * docs check and show the same grouping as the catalogue uses.
 */
export const ERROR_FAMILIES = {
  "1": "validation",
  "2": "auth",
  "3": "moral filter",
  "4": "memory and state",
  "5": "rhythm",
  "6": "provider",
  "7": "system",
  "8": "configuration",
} as const;

/** A family name, as the first digit of a code maps it (`ERROR_FAMILIES`). */
export type ErrorFamily = (typeof ERROR_FAMILIES)[keyof typeof ERROR_FAMILIES];

/** A catalogue code: `E` and three digits, the first one naming the family. */
export type ErrorCodeString = `E${number}`;

/** One catalogue row: everything a client, a log line and an operator need about a failure. */
export interface CatalogueEntry {
  /** Stable numeric code (`E###`): the log field `error_code` and `ErrorInfo.metadata.code`. */
  readonly code: ErrorCodeString;
  /**
   * The family the failure belongs to by meaning. It equals the family of the code's first
   * digit, except for the documented {@link CODE_FAMILY_EXCEPTIONS}; a test checks this so a
   * misnumbered new entry is caught in review.
   */
  readonly family: ErrorFamily;
  /** Canonical status sent on both listeners (numeric values equal gRPC's). */
  readonly status: Code;
  /** Whether the same call may succeed later without the client changing it. */
  readonly retryable: boolean;
  /**
   * Default `RetryInfo.retry_delay` in milliseconds; present exactly when `retryable`. The
   * raising code may pass a better value (remaining cooldown, time to the next token).
   */
  readonly retryAfterMs?: number;
  /** What happened and what the client should do; sent as the status message. */
  readonly message: string;
  /** What the operator should check or do; for docs/errors.md and the runbook, never sent. */
  readonly action: string;
}

const entries = {
  // ── E1xx validation ────────────────────────────────────────────────────────────────
  VALIDATION_FAILED: {
    code: "E100",
    family: "validation",
    status: Code.InvalidArgument,
    retryable: false,
    message: "The request has invalid fields; see the BadRequest field violations and fix them.",
    action: "None: a client bug or misuse. Spikes point at a client release sending bad requests.",
  },
  INVALID_VECTOR_DIMENSION: {
    code: "E101",
    family: "validation",
    status: Code.InvalidArgument,
    retryable: false,
    message: "The vector has the wrong number of elements; send exactly the configured dimension.",
    action: "Check that clients and the server agree on the embedding dimension (config `dimension`).",
  },
  VALUE_OUT_OF_RANGE: {
    code: "E102",
    family: "validation",
    status: Code.InvalidArgument,
    retryable: false,
    message:
      "A value is outside its allowed range (e.g. moral value 0..1, max_tokens); send a value in range.",
    action: "None: a client bug. The BadRequest detail names the field and the range.",
  },
  PROMPT_EMPTY: {
    code: "E103",
    family: "validation",
    status: Code.InvalidArgument,
    retryable: false,
    message: "The prompt is empty or whitespace only; send a non-empty prompt.",
    action: "None: a client bug.",
  },
  PROMPT_TOO_LONG: {
    code: "E104",
    family: "validation",
    status: Code.InvalidArgument,
    retryable: false,
    message: "The prompt exceeds the maximum length; shorten it.",
    action: "If legitimate prompts hit the limit, raise the configured maximum prompt length.",
  },
  NON_FINITE_VALUE: {
    code: "E105",
    family: "validation",
    status: Code.InvalidArgument,
    retryable: false,
    message: "A number is NaN or infinite; send finite values only.",
    action: 'None: a client bug (the protobuf JSON mapping accepts "NaN" and "Infinity", we do not).',
  },
  MALFORMED_REQUEST: {
    code: "E106",
    family: "validation",
    status: Code.InvalidArgument,
    retryable: false,
    message: "The request body could not be decoded; send a valid message for this RPC.",
    action: "Check the client's generated code matches the served contract version (proto/mlsdm/v1).",
  },

  REQUEST_TOO_LARGE: {
    code: "E107",
    family: "validation",
    status: Code.InvalidArgument,
    retryable: false,
    message: "The request is larger than the server accepts (server.maxMessageBytes); send a smaller one.",
    action: "Raise server.maxMessageBytes only if clients legitimately send larger requests.",
  },
  PROMPT_CONTAINS_PII: {
    code: "E108",
    family: "validation",
    status: Code.InvalidArgument,
    retryable: false,
    message:
      "The prompt contains data this server does not forward to the model; remove it (see BadRequest).",
    action: "Expected when clients paste secrets or card data; pii.prompt.* decides which kinds block.",
  },

  // ── E2xx auth ──────────────────────────────────────────────────────────────────────
  CREDENTIAL_INVALID: {
    code: "E201",
    family: "auth",
    status: Code.Unauthenticated,
    retryable: false,
    message: "The credential is not valid; send a valid bearer token.",
    action: "Check the token's issuer, audience, signature and key id against the configured OIDC/JWKS.",
  },
  CREDENTIAL_EXPIRED: {
    code: "E202",
    family: "auth",
    status: Code.Unauthenticated,
    retryable: false,
    message: "The credential has expired; obtain a fresh token or API key.",
    action: "Rotate the client's key or token (runbook: key rotation); watch mlsdm_api_key_expiry_seconds.",
  },
  PERMISSION_DENIED: {
    code: "E203",
    family: "auth",
    status: Code.PermissionDenied,
    retryable: false,
    message: "The credential lacks the role this RPC requires; use a credential with that role.",
    action: "Grant the required role (read < write < admin) if the caller should have it.",
  },
  API_KEY_INVALID: {
    code: "E204",
    family: "auth",
    status: Code.Unauthenticated,
    retryable: false,
    message: "The API key is not recognised; send a valid key as `authorization: Bearer <key>`.",
    action: "Check the key is configured and not revoked; repeated failures from one peer may be an attack.",
  },
  DISABLED_IN_SECURE_MODE: {
    code: "E205",
    family: "auth",
    status: Code.PermissionDenied,
    retryable: false,
    message: "This operation is disabled in secure mode, whatever the caller's role.",
    action: "Expected with MLSDM_SECURE_MODE=true; run the operation where secure mode is off if intended.",
  },
  CREDENTIAL_MISSING: {
    code: "E206",
    family: "auth",
    status: Code.Unauthenticated,
    retryable: false,
    message: "No credential was sent; add `authorization: Bearer <key or token>`.",
    action: "Configure the client with a credential; only health and reflection are anonymous.",
  },
  SIGNATURE_INVALID: {
    code: "E207",
    family: "auth",
    status: Code.Unauthenticated,
    retryable: false,
    message: "The request signature is missing, malformed or wrong; sign the request with a current key.",
    action: "Check the client's signing key id and secret match a configured signing key.",
  },
  SIGNATURE_EXPIRED: {
    code: "E208",
    family: "auth",
    status: Code.Unauthenticated,
    retryable: false,
    message:
      "The request signature timestamp is outside the accepted window; sign again with the current time.",
    action: "Check clock synchronisation (NTP) between client and server.",
  },
  SIGNATURE_REPLAYED: {
    code: "E209",
    family: "auth",
    status: Code.Unauthenticated,
    retryable: false,
    message: "This signed request was already received; sign each request afresh.",
    action: "A client retrying with the same signature, or a replay attack: check the security log.",
  },

  // ── E3xx moral filter ──────────────────────────────────────────────────────────────
  MORAL_REJECTED: {
    code: "E301",
    family: "moral filter",
    status: Code.FailedPrecondition,
    retryable: false,
    message: "The request was rejected by the moral filter; do not resend it unchanged.",
    action: "Normal outcome, excluded from error SLOs. A spike: see alert MoralFilterBlockSpike.",
  },
  RESPONSE_REJECTED: {
    code: "E302",
    family: "moral filter",
    status: Code.FailedPrecondition,
    retryable: false,
    message: "The generated response failed the post-generation moral check and was withheld.",
    action: "Normal outcome. Frequent hits suggest reviewing the provider model or the moral threshold.",
  },

  // ── E4xx memory and state ─────────────────────────────────────────────────────────
  PELM_CORRUPTED: {
    code: "E401",
    family: "memory and state",
    status: Code.DataLoss,
    retryable: false,
    message: "The memory store failed its integrity check; the operation was not performed.",
    action: "Restore the memory state from the last good snapshot; keep the corrupt file for analysis.",
  },
  SNAPSHOT_NOT_FOUND: {
    code: "E402",
    family: "memory and state",
    status: Code.NotFound,
    retryable: false,
    message: "No memory snapshot has that name; list snapshots and use an existing one.",
    action: "None, unless snapshots are expected: check MLSDM_DATA_DIR and the snapshot retention.",
  },
  SNAPSHOT_CORRUPTED: {
    code: "E403",
    family: "memory and state",
    status: Code.DataLoss,
    retryable: false,
    message: "The memory snapshot failed its integrity check and was not loaded.",
    action: "Use an older snapshot; check the storage under MLSDM_DATA_DIR for disk errors.",
  },
  KEY_NOT_FOUND: {
    code: "E404",
    family: "memory and state",
    status: Code.NotFound,
    retryable: false,
    message: "No API key has that id; list keys and use an existing id.",
    action: "None: the key may already be revoked.",
  },
  KEY_ALREADY_EXISTS: {
    code: "E405",
    family: "memory and state",
    status: Code.AlreadyExists,
    retryable: false,
    message: "An API key with that id already exists; choose another id or revoke the old key first.",
    action: "None.",
  },
  STORE_UNAVAILABLE: {
    code: "E406",
    family: "memory and state",
    status: Code.Unavailable,
    retryable: true,
    retryAfterMs: 1_000,
    message: "The memory state store is temporarily unavailable; retry after the delay.",
    action: "Check the state store (SQLite file under MLSDM_DATA_DIR: disk space, permissions, locks).",
  },
  STATE_NOT_PERSISTENT: {
    code: "E408",
    family: "memory and state",
    status: Code.FailedPrecondition,
    retryable: false,
    message: "Snapshots need persistent state; this server runs with MLSDM_STATE=memory.",
    action: "Run with MLSDM_STATE=sqlite (the default) and a writable MLSDM_DATA_DIR to use snapshots.",
  },
  KEY_NOT_ROTATABLE: {
    code: "E409",
    family: "memory and state",
    status: Code.FailedPrecondition,
    retryable: false,
    message:
      "This API key cannot be rotated: it is not active, or it comes from the environment or the keys file.",
    action:
      "Rotate environment and file keys at their source (runbook: key rotation); rotate only active runtime keys.",
  },
  PATH_NOT_ALLOWED: {
    code: "E407",
    family: "memory and state",
    status: Code.InvalidArgument,
    retryable: false,
    message: "The path is outside the allowed directory; use a path under the configured base directory.",
    action: "Possible traversal attempt: check the security log. Loading files is disabled in secure mode.",
  },
  SNAPSHOT_IMPORT_INVALID: {
    code: "E410",
    family: "memory and state",
    status: Code.InvalidArgument,
    retryable: false,
    message: "The uploaded snapshot fails its SHA-256, format or dimension check; nothing was stored.",
    action:
      "Export the snapshot again (mlsdm admin snapshot export) from a server with the same core.dimension.",
  },
  SNAPSHOT_UPLOAD_UNKNOWN: {
    code: "E411",
    family: "memory and state",
    status: Code.NotFound,
    retryable: false,
    message: "The snapshot upload is unknown or expired (idle for 5 minutes); start the upload again.",
    action: "Restart the import from the first chunk with an empty upload_id.",
  },
  SNAPSHOT_UPLOAD_OUT_OF_ORDER: {
    code: "E412",
    family: "memory and state",
    status: Code.FailedPrecondition,
    retryable: false,
    message: "The chunk does not continue the upload; resume from the offset the server reports.",
    action: "Resend from metadata.received_bytes with the same total_size and checksum_sha256.",
  },

  // ── E5xx rhythm ────────────────────────────────────────────────────────────────────
  SLEEP_PHASE: {
    code: "E501",
    family: "rhythm",
    status: Code.FailedPrecondition,
    retryable: true,
    retryAfterMs: 1_000,
    message: "The engine is in its sleep (consolidation) phase; retry after the delay.",
    action: "Normal behaviour of the wake/sleep rhythm; health stays SERVING.",
  },
  PROCESSING_TIME_EXCEEDED: {
    code: "E503",
    family: "rhythm",
    status: Code.DeadlineExceeded,
    retryable: true,
    retryAfterMs: 1_000,
    message: "The engine's processing-time budget ran out before the work finished; retry later.",
    action: "Check engine latency and load; raise max_processing_time_ms only if the budget is too tight.",
  },

  // ── E6xx provider ──────────────────────────────────────────────────────────────────
  LLM_TIMEOUT: {
    code: "E601",
    family: "provider",
    status: Code.DeadlineExceeded,
    retryable: true,
    retryAfterMs: 2_000,
    message: "The model did not answer within the deadline; retry later or with a longer deadline.",
    action: "Check provider latency (alert LLMTimeoutSpike) and the per-method deadline configuration.",
  },
  RATE_LIMITED: {
    code: "E602",
    family: "system",
    status: Code.ResourceExhausted,
    retryable: true,
    retryAfterMs: 200,
    message: "Too many requests from this client; retry after the delay in RetryInfo.",
    action: "Expected under bursts. Sustained hits: alerts HighRateLimitHits / PossibleAttack.",
  },
  PROVIDER_UNAVAILABLE: {
    code: "E603",
    family: "provider",
    status: Code.Unavailable,
    retryable: true,
    retryAfterMs: 2_000,
    message: "The model provider could not be reached or failed; retry after the delay.",
    action: "Check the provider endpoint, network and status page; see mlsdm_llm_failures_total{reason}.",
  },
  PROVIDER_QUOTA_EXCEEDED: {
    code: "E604",
    family: "provider",
    status: Code.ResourceExhausted,
    retryable: true,
    retryAfterMs: 60_000,
    message: "The model provider's quota is exhausted; retry after the delay.",
    action: "Raise the provider quota or lower traffic (alert LLMQuotaExceeded).",
  },
  PROVIDER_ERROR: {
    code: "E605",
    family: "provider",
    status: Code.FailedPrecondition,
    retryable: false,
    message: "The model provider refused the request; retrying will not help.",
    action: "Check the provider credentials, model name and request limits in the configuration.",
  },
  PROVIDER_INVALID_RESPONSE: {
    code: "E606",
    family: "provider",
    status: Code.Unavailable,
    retryable: true,
    retryAfterMs: 1_000,
    message: "The model returned an empty or unusable response; retry after the delay.",
    action: "Check the provider and model; frequent hits suggest a model or adapter problem.",
  },
  EMBEDDING_INVALID: {
    code: "E607",
    family: "provider",
    status: Code.Internal,
    retryable: false,
    message: "The embedding could not be computed (empty, non-finite or zero-norm vector).",
    action: "Check the embedding provider and its dimension against the configured `dimension`.",
  },
  TOKEN_QUOTA_EXCEEDED: {
    code: "E608",
    family: "provider",
    status: Code.ResourceExhausted,
    retryable: true,
    retryAfterMs: 60_000,
    message: "This client's model-token quota for the current window is used up; retry after the delay.",
    action:
      "Expected for heavy users; raise limits.tokenQuotaPerMinute / tokenQuotaPerDay or give the client its own key.",
  },

  // ── E7xx system ────────────────────────────────────────────────────────────────────
  INTERNAL: {
    code: "E700",
    family: "system",
    status: Code.Internal,
    retryable: false,
    message: "Internal error; it has been logged. Report the request id if it persists.",
    action: "A bug: find the log line by request id (it carries the cause chain) and file an issue.",
  },
  EMERGENCY_SHUTDOWN: {
    code: "E701",
    family: "system",
    status: Code.Unavailable,
    retryable: true,
    retryAfterMs: 60_000,
    message: "The engine is in emergency shutdown (reason in metadata); retry after the delay.",
    action:
      "Check memory use (alert EmergencyShutdownActive); AdminService.ResetEmergency is the manual override.",
  },
  RESOURCE_EXHAUSTED: {
    code: "E702",
    family: "system",
    status: Code.ResourceExhausted,
    retryable: true,
    retryAfterMs: 5_000,
    message: "The server is at its concurrency limit for this kind of call; retry after the delay.",
    action: "Check bulkhead saturation (mlsdm_bulkhead_*); scale out or raise the compartment limits.",
  },
  CIRCUIT_OPEN: {
    code: "E703",
    family: "system",
    status: Code.Unavailable,
    retryable: true,
    retryAfterMs: 30_000,
    message: "Calls to the model provider are paused after repeated failures; retry after the delay.",
    action:
      "Check the provider (mlsdm_circuit_state, mlsdm_llm_failures_total); the breaker probes by itself.",
  },
  RECOVERY_FAILED: {
    code: "E704",
    family: "system",
    status: Code.Unavailable,
    retryable: false,
    message:
      "Automatic recovery from emergency shutdown has given up; the engine stays down until an operator resets it.",
    action: "Find why memory stays high, then call AdminService.ResetEmergency (runbook: emergency reset).",
  },
  SHUTTING_DOWN: {
    code: "E705",
    family: "system",
    status: Code.Unavailable,
    retryable: true,
    retryAfterMs: 1_000,
    message: "This server is shutting down; retry, ideally on another replica.",
    action: "Expected during deploys. Many hits: check the preStop delay and terminationGracePeriodSeconds.",
  },
  DEADLINE_EXCEEDED: {
    code: "E706",
    family: "system",
    status: Code.DeadlineExceeded,
    retryable: true,
    retryAfterMs: 1_000,
    message: "The call did not finish within its deadline; retry later or with a longer deadline.",
    action: "Check latency by method (mlsdm_request_timeouts_total) and the deadline configuration.",
  },
  CANCELLED: {
    code: "E707",
    family: "system",
    status: Code.Canceled,
    retryable: false,
    message: "The call was cancelled by the client.",
    action: "None: the client gave up. Many cancellations may mean clients use too short deadlines.",
  },
  NOT_IMPLEMENTED: {
    code: "E708",
    family: "system",
    status: Code.Unimplemented,
    retryable: false,
    message: "This RPC is part of the contract but not implemented by this server version.",
    action: "Upgrade the server, or keep clients off this RPC until the release that implements it.",
  },
  METHOD_NOT_FOUND: {
    code: "E709",
    family: "system",
    status: Code.Unimplemented,
    retryable: false,
    message: "No such RPC on this server; check the service and method name.",
    action: "Check the client's contract version and the URL path (/package.Service/Method).",
  },
  SERVICE_UNKNOWN: {
    code: "E710",
    family: "system",
    status: Code.NotFound,
    retryable: false,
    message:
      'Health has no service of that name; use "" or a full service name such as mlsdm.v1.EngineService.',
    action: "Fix the probe's service name.",
  },
  UNAVAILABLE: {
    code: "E711",
    family: "system",
    status: Code.Unavailable,
    retryable: true,
    retryAfterMs: 1_000,
    message:
      "The server cannot serve this call right now (starting up or a dependency is down); retry after the delay.",
    action: "Check readiness (/readyz, health NOT_SERVING) and the dependencies it reports.",
  },

  // ── E8xx configuration ─────────────────────────────────────────────────────────────
  CONFIG_INVALID: {
    code: "E801",
    family: "configuration",
    status: Code.FailedPrecondition,
    retryable: false,
    message: "The configuration is invalid; the message names the key.",
    action:
      "Fix the named key (environment MLSDM_* or the YAML file); `mlsdm config print` shows the effective value.",
  },
  CONFIG_FILE_UNREADABLE: {
    code: "E802",
    family: "configuration",
    status: Code.FailedPrecondition,
    retryable: false,
    message: "The configuration file could not be read.",
    action: "Check the file path, mount and permissions.",
  },
  CONFIG_FILE_INVALID_YAML: {
    code: "E803",
    family: "configuration",
    status: Code.FailedPrecondition,
    retryable: false,
    message: "The configuration file is not valid YAML.",
    action: "Fix the YAML syntax at the reported line.",
  },
  CONFIG_INSECURE: {
    code: "E804",
    family: "configuration",
    status: Code.FailedPrecondition,
    retryable: false,
    message: "The configuration is not allowed in secure mode.",
    action:
      "Fix the named setting (auth, TLS, reflection, file loading) or turn secure mode off deliberately.",
  },
} satisfies Record<string, CatalogueEntry>;

/** A stable, machine-readable failure name (`ErrorInfo.reason`, log field `error_reason`). */
export type ErrorReason = keyof typeof entries;

for (const entry of Object.values(entries)) Object.freeze(entry);

/**
 * The catalogue, keyed by reason. Frozen: it is the contract, not configuration.
 *
 * @example
 * ERROR_CATALOGUE.EMERGENCY_SHUTDOWN.code // "E701"
 */
export const ERROR_CATALOGUE: Readonly<Record<ErrorReason, CatalogueEntry>> = Object.freeze(entries);

/** Every reason, in catalogue (code) order; for docs, tests and metrics pre-registration. */
export const ERROR_REASONS: readonly ErrorReason[] = Object.freeze(Object.keys(entries) as ErrorReason[]);

/**
 * Codes whose number does not match the family of their meaning, each with the reason it is
 * kept. An exception is allowed only when a specification fixes the number.
 */
export const CODE_FAMILY_EXCEPTIONS: Readonly<Partial<Record<ErrorReason, string>>> = Object.freeze({
  RATE_LIMITED:
    "E602 is a per-client admission limit, not a provider failure, but spec/production.md BASE-SEC-b fixes the number.",
});

/** Whether `value` names a catalogue entry; used to trust reasons read back from the wire. */
export function isErrorReason(value: string): value is ErrorReason {
  return Object.hasOwn(entries, value);
}

/**
 * The canonical gRPC name of a status (`UNAVAILABLE`), as operators, grpcurl and the gRPC
 * docs spell it; connect-es's enum names (`Unavailable`, `Canceled`) differ.
 */
export function grpcStatusName(code: Code): string {
  if (code === Code.Canceled) return "CANCELLED";
  return Code[code].replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}

const CONNECT_HTTP_STATUS: Readonly<Record<Code, number>> = {
  [Code.Canceled]: 499,
  [Code.Unknown]: 500,
  [Code.InvalidArgument]: 400,
  [Code.DeadlineExceeded]: 504,
  [Code.NotFound]: 404,
  [Code.AlreadyExists]: 409,
  [Code.PermissionDenied]: 403,
  [Code.ResourceExhausted]: 429,
  [Code.FailedPrecondition]: 400,
  [Code.Aborted]: 409,
  [Code.OutOfRange]: 400,
  [Code.Unimplemented]: 501,
  [Code.Internal]: 500,
  [Code.Unavailable]: 503,
  [Code.DataLoss]: 500,
  [Code.Unauthenticated]: 401,
};

/**
 * The HTTP status a unary Connect-protocol error carries for `code`. Fixed by the Connect
 * protocol (connect-es keeps its own copy private), repeated here so the error docs can show
 * it; a test compares the two. gRPC and gRPC-Web responses are HTTP 200 with the status in
 * `grpc-status`, and streaming Connect errors arrive in the end-of-stream message.
 */
export function connectHttpStatus(code: Code): number {
  return CONNECT_HTTP_STATUS[code];
}
