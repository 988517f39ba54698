import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/**
 * Headless Chromium for checking what a browser makes of a page taskq wrote.
 * Debian's `chromium`; scripts/test installs it (as root, with apt-get) when
 * missing. Without it the tests that need it fail: they never skip.
 */
export function chromiumPath(): string {
  for (const candidate of [process.env.TASKQ_CHROMIUM, "/usr/bin/chromium", Bun.which("chromium") ?? undefined]) {
    if (candidate && existsSync(candidate)) return candidate;
  }
  throw new Error(
    "chromium is not installed, so the HTML report cannot be rendered: run scripts/test as root (it installs Debian's chromium with apt-get), or `apt-get install chromium`, or set TASKQ_CHROMIUM to a Chromium binary",
  );
}

// Nothing reaches the network on its own (updates, sync, QUIC probes); no sandbox: tests may run as root.
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
  "--no-first-run",
];

/** One Chromium run with a fresh profile, removed afterwards; its stdout. */
async function chromium(args: string[], timeoutMs = 60_000): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), "taskq-chromium-"));
  try {
    const proc = Bun.spawn([chromiumPath(), ...FLAGS, `--user-data-dir=${profile}`, ...args], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
    const [stdout, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    clearTimeout(timer);
    // Its stderr is noisy even when all is well (no D-Bus in a container): only shown when it failed.
    if (code !== 0)
      throw new Error(`chromium exited with ${code}:\n${stderr.trim().split("\n").slice(-15).join("\n")}`);
    return stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Renders a local HTML file to a PNG of the given window size. */
export async function screenshot(
  htmlPath: string,
  pngPath: string,
  size: { width: number; height: number },
): Promise<void> {
  await chromium([
    `--screenshot=${pngPath}`,
    `--window-size=${size.width},${size.height}`,
    pathToFileURL(htmlPath).href,
  ]);
}

/** The DOM after Chromium parsed and laid out the page, serialized. */
export async function dumpDom(htmlPath: string): Promise<string> {
  return chromium(["--dump-dom", pathToFileURL(htmlPath).href]);
}

/** Width and height from a PNG's IHDR chunk; throws when it is not a PNG. */
export function pngSize(png: Uint8Array): { width: number; height: number } {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (png.length < 24 || signature.some((b, i) => png[i] !== b)) throw new Error("not a PNG");
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}
