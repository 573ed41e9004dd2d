/**
 * The exit codes of the `mlsdm` command (docs/cli.md), one per class of outcome so scripts can
 * tell a typo from an outage from a refusal.
 */
export const EXIT = {
  /** Done. */
  OK: 0,
  /** Something unexpected in the command itself (a bug, a local I/O failure). */
  FAILURE: 1,
  /** Usage: unknown command or flag, bad value, bad URL, unreadable input file, bad configuration. */
  USAGE: 2,
  /** Connection: the server could not be reached (refused, unresolvable, TLS handshake, reset). */
  CONNECTION: 3,
  /** Server error: the server answered with a non-OK status (the E### code is printed). */
  SERVER: 4,
  /** `health`: the server answered, but is not SERVING. */
  NOT_SERVING: 5,
  /** `bench`: a benchmark script failed; `admin snapshot export`: the file fails its SHA-256. */
  CHECK_FAILED: 6,
} as const;

/** An error that ends the command with a chosen exit code and one line of text. */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** A usage error (exit 2). */
export function usageError(message: string): CliError {
  return new CliError(message, EXIT.USAGE);
}
