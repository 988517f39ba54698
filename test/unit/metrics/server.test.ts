import { afterEach, describe, expect, test } from "bun:test";
import { ExitCode, TaskqError } from "../../../src/errors.ts";
import { type MetricsServer, serveMetrics } from "../../../src/metrics/server.ts";

const open: MetricsServer[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.stop();
});

/** A port nothing listens on right now. */
function freePort(): number {
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = probe.port as number;
  probe.stop(true);
  return port;
}

function serve(render: () => string = () => "x 1\n"): MetricsServer {
  const s = serveMetrics({ host: "127.0.0.1", port: freePort() }, render);
  open.push(s);
  return s;
}

describe("serveMetrics", () => {
  test("serves render() at /metrics in the text format", async () => {
    let n = 0;
    const s = serve(() => `scrapes ${++n}\n`);
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const first = await fetch(s.url);
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(await first.text()).toBe("scrapes 1\n");
    expect(await (await fetch(s.url)).text()).toBe("scrapes 2\n");
  });

  test.each([
    ["/", "GET", 404],
    ["/metrics/", "GET", 404],
    ["/other", "GET", 404],
    ["/metrics?x=1", "GET", 200],
    ["/metrics", "HEAD", 200],
    ["/metrics", "POST", 405],
  ])("%s %s -> %p", async (path, method, status) => {
    const s = serve();
    const res = await fetch(new URL(path, s.url), { method });
    expect(res.status).toBe(status);
    await res.arrayBuffer();
  });

  test("a taken port is a one-line runtime error", () => {
    const s = serve();
    const port = Number(new URL(s.url).port);
    let thrown: unknown;
    try {
      open.push(serveMetrics({ host: "127.0.0.1", port }, () => ""));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(TaskqError);
    const err = thrown as TaskqError;
    expect(err.exitCode).toBe(ExitCode.runtime);
    expect(err.message).toBe(
      `cannot serve metrics on 127.0.0.1:${port}: the port is already in use (pick another --metrics-port)`,
    );
  });

  test("an address not of this host is a one-line runtime error", () => {
    expect(() => serveMetrics({ host: "192.0.2.1", port: freePort() }, () => "")).toThrow(
      /^cannot serve metrics on 192\.0\.2\.1:\d+: not an address of this host/,
    );
  });

  test("stop() closes the port", async () => {
    const s = serveMetrics({ host: "127.0.0.1", port: freePort() }, () => "");
    await (await fetch(s.url)).text();
    s.stop();
    await expect(fetch(s.url)).rejects.toThrow();
  });
});
