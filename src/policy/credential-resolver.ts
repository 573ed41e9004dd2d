/**
 * An identity source (SEC-001, SEC-004, SEC-006): a transport-neutral function that looks at a
 * call for its kind of credential. It returns the caller's identity when the credential is
 * present and good, `undefined` when the call carries no credential of its kind (the next source
 * is tried), and throws an `MlsdmError` (with the security event already logged) when the
 * credential is present but bad. Sources are tried in order; the first identity wins.
 */
import type { HandlerContext } from "@connectrpc/connect";
import type { Identity } from "./identity.js";

/** One identity source, tried in order by the authentication policy. */
export interface CredentialResolver {
  /** Short name for logs ("mtls", "jwt", "api_key"). */
  readonly name: string;
  resolve(context: HandlerContext): Identity | undefined | Promise<Identity | undefined>;
}
