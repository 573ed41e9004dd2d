/** A free TCP port on 127.0.0.1, for tests and benchmarks that start servers of their own. */
import { createServer } from "node:net";

/** Binds port 0 once, reads the port the OS chose, and releases it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => {
        resolve(port);
      });
    });
  });
}
