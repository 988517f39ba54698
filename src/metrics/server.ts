import { TaskqError } from "../errors.ts";

/**
 * The Content-Type a scrape expects for the text format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/).
 */
const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export interface MetricsAddress {
  host: string;
  port: number;
}

export interface MetricsServer {
  /** Where to scrape, e.g. `http://127.0.0.1:9464/metrics`. */
  readonly url: string;
  /** Closes the port and any open scrape connections. */
  stop(): void;
}

/**
 * Serves `render()` at `/metrics` (GET or HEAD; 404 elsewhere). Binds at once,
 * so a taken port is a one-line TaskqError before anything else starts. The
 * server never keeps the process alive by itself.
 */
export function serveMetrics(address: MetricsAddress, render: () => string): MetricsServer {
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: address.host,
      port: address.port,
      fetch(req) {
        if (new URL(req.url).pathname !== "/metrics")
          return new Response("not found; metrics are at /metrics\n", { status: 404 });
        if (req.method !== "GET" && req.method !== "HEAD")
          return new Response("method not allowed\n", { status: 405, headers: { Allow: "GET, HEAD" } });
        return new Response(render(), { headers: { "Content-Type": CONTENT_TYPE } });
      },
    });
  } catch (err) {
    throw new TaskqError(bindError(address, err as NodeJS.ErrnoException));
  }
  server.unref();
  return {
    url: new URL("/metrics", server.url).href,
    stop: () => void server.stop(true),
  };
}

function bindError({ host, port }: MetricsAddress, err: NodeJS.ErrnoException): string {
  const where = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  switch (err.code) {
    case "EADDRINUSE":
      return `cannot serve metrics on ${where}: the port is already in use (pick another --metrics-port)`;
    case "EACCES":
      return `cannot serve metrics on ${where}: permission denied (ports below 1024 need privileges)`;
    case "EADDRNOTAVAIL":
    case "EINVAL":
      return `cannot serve metrics on ${where}: not an address of this host (check --metrics-host)`;
    default:
      return `cannot serve metrics on ${where}: ${err.message}`;
  }
}
