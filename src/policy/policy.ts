/**
 * A request policy: a transport-neutral check that runs before a handler, over the call's
 * context (method, headers, deadline, signal, context values). It rejects by throwing an
 * `MlsdmError`; it may also write response headers. Both listeners run the same policies
 * because they wrap the same service implementation (see `apply-policies.ts`).
 */
import type { HandlerContext } from "@connectrpc/connect";

/**
 * One admission check. Synchronous where it can be: it sits on every call's path. `request` is
 * the decoded request message (a server-streaming call's single request too), for policies that
 * need its content (request signing, prompt scrubbing); most ignore it.
 */
export type Policy = (context: HandlerContext, request: unknown) => void | Promise<void>;
