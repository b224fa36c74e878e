// Real SocketStarter nodes for browser tests: free ports, a temporary journal, stopped by PID however the test ends.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const configuration = process.env.SOCKETSTARTER_CONFIGURATION ?? "Release";

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

export class Node {
  constructor(name, dll, env) {
    this.name = name;
    this.output = "";
    this.process = spawn("dotnet", [join(repo, dll)], { env: { ...process.env, ...env }, cwd: env.WORKDIR, stdio: ["ignore", "pipe", "pipe"] });
    this.exited = new Promise((resolve) => this.process.on("exit", resolve));
    for (const stream of [this.process.stdout, this.process.stderr]) stream.on("data", (d) => (this.output += d));
  }
  get pid() {
    return this.process.pid;
  }
  /** SIGTERM: a graceful stop, as a deployment does it. */
  async terminate() {
    this.process.kill("SIGTERM");
    await this.exited;
  }
  kill() {
    if (this.process.exitCode === null) this.process.kill("SIGKILL");
  }
}

export class Cluster {
  static async start() {
    const cluster = new Cluster();
    cluster.folder = mkdtempSync(join(tmpdir(), "socketstarter-browser-"));
    cluster.seedPort = await freePort();
    cluster.httpPort = await freePort();
    cluster.nodes = [];
    cluster.env = {
      AKKA_HOST: "127.0.0.1",
      AKKA_SEEDS: `127.0.0.1:${cluster.seedPort}`,
      JOURNAL_CONNECTION_STRING: `Data Source=${join(cluster.folder, "journal.db")}`,
      CLIENT_DIR: join(repo, "client", "dist"),
      WORKDIR: cluster.folder,
    };
    process.on("exit", () => cluster.nodes.forEach((n) => n.kill()));
    cluster.nodes.push(new Node("frontend", `Frontend.Node/bin/${configuration}/net10.0/SocketStarter.Frontend.dll`, {
      ...cluster.env, AKKA_PORT: String(cluster.seedPort), ASPNETCORE_URLS: `http://127.0.0.1:${cluster.httpPort}`,
      MQTT_PORT: "0", MANAGEMENT_PORT: "0",
    }));
    await cluster.startBackend();
    await cluster.waitForHttp(60_000);
    return cluster;
  }

  /** The frontend serves the page (the backend may still be joining; the page copes with that). */
  async waitForHttp(timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        if ((await fetch(this.url)).ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`frontend not serving ${this.url}:\n${this.nodes[0].output}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  get url() {
    return `http://127.0.0.1:${this.httpPort}/`;
  }

  async startBackend() {
    const backend = new Node(`backend-${this.nodes.length}`, `Backend.Node/bin/${configuration}/net10.0/SocketStarter.Backend.dll`, {
      ...this.env, AKKA_PORT: String(await freePort()), MANAGEMENT_PORT: "0",
    });
    this.nodes.push(backend);
    return backend;
  }

  get backend() {
    return this.nodes.filter((n) => n.name.startsWith("backend")).at(-1);
  }

  stop() {
    for (const node of this.nodes) node.kill();
    rmSync(this.folder, { recursive: true, force: true });
  }
}
