/**
 * A real `redis-server` for tests: started on a free loopback port in a temporary directory with
 * persistence off (`--save '' --appendonly no`), stopped and started again on the same port for
 * outage tests, removed with its directory by `close()`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "./free-port.js";

/** Resolves once a PING on `port` gets PONG; rejects after `timeoutMs`. */
async function waitForPong(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      let reply = "";
      socket.setTimeout(500, () => {
        socket.destroy();
        resolve(false);
      });
      socket.on("connect", () => socket.write("PING\r\n"));
      socket.on("data", (data) => {
        reply += data.toString();
        if (reply.includes("\r\n")) {
          socket.destroy();
          resolve(reply.startsWith("+PONG"));
        }
      });
      socket.on("error", () => {
        resolve(false);
      });
    });
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`redis-server on port ${port} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A running test Redis. */
export class TestRedis {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  /** `redis://127.0.0.1:<port>`. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Whether the server process is running. */
  get running(): boolean {
    return this.child !== undefined;
  }

  /** Starts a server on a free port. */
  static async start(): Promise<TestRedis> {
    const redis = new TestRedis(await freePort(), mkdtempSync(path.join(tmpdir(), "mlsdm-redis-")));
    await redis.start();
    return redis;
  }

  /** (Re)starts the server on the same port; the data set starts empty. */
  async start(): Promise<void> {
    if (this.child) return;
    const child = spawn(
      "redis-server",
      [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        this.dir,
      ],
      { stdio: "ignore" },
    );
    this.child = child;
    child.once("exit", () => {
      if (this.child === child) this.child = undefined;
    });
    await waitForPong(this.port, 10_000);
  }

  /** Stops the server (SIGKILL: an abrupt outage) and waits until it has exited. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => {
      child.once("exit", () => {
        resolve();
      });
    });
    child.kill("SIGKILL");
    await exited;
    this.child = undefined;
  }

  /** Stops the server and removes its directory. */
  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
