import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IsolatedNode } from "./node.ts";

const BROKER_SCRIPT = join(import.meta.dir, "..", "..", "scripts", "broker");

/** Paths of a throwaway PKI: a CA, a server cert for localhost/127.0.0.1 and a client cert, all signed by the CA. */
export interface TestPki {
  dir: string;
  ca: string;
  caKey: string;
  server: string;
  serverKey: string;
  client: string;
  clientKey: string;
  /** Deletes the directory. */
  remove(): void;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const proc = Bun.spawn(["openssl", ...args], { cwd, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`openssl ${args.join(" ")} failed (${code}): ${err}${out}`);
}

/** An EC P-256 key and a CSR for `subject`. */
async function keyAndCsr(cwd: string, name: string, subject: string): Promise<void> {
  await openssl(
    [
      "req",
      "-new",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      `${name}-key.pem`,
      "-subj",
      subject,
      "-out",
      `${name}.csr`,
    ],
    cwd,
  );
}

/** Signs NAME.csr with the CA, with the given X.509 v3 extensions, into NAME.pem. */
async function sign(cwd: string, name: string, extensions: string): Promise<void> {
  writeFileSync(join(cwd, `${name}.ext`), extensions);
  await openssl(
    [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca-key.pem",
      "-CAcreateserial",
      "-days",
      "2",
      "-sha256",
      "-extfile",
      `${name}.ext`,
      "-out",
      `${name}.pem`,
    ],
    cwd,
  );
}

/**
 * Generates a CA (ca.pem, ca-key.pem), a server certificate (server.pem,
 * server-key.pem; CN=localhost, SAN DNS:localhost and IP:127.0.0.1) and a client
 * certificate (client.pem, client-key.pem) in a new temp dir. EC P-256 keys: fast.
 */
export async function makeTestPki(): Promise<TestPki> {
  const dir = mkdtempSync(join(tmpdir(), "taskq-tls-"));
  await openssl(
    [
      "req",
      "-x509",
      "-new",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      "ca-key.pem",
      "-subj",
      "/CN=taskq test CA",
      "-days",
      "2",
      "-sha256",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
      "-out",
      "ca.pem",
    ],
    dir,
  );
  await Promise.all([keyAndCsr(dir, "server", "/CN=localhost"), keyAndCsr(dir, "client", "/CN=taskq-test-client")]);
  // One at a time: both update the CA's serial file.
  await sign(
    dir,
    "server",
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
  );
  await sign(
    dir,
    "client",
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n",
  );
  const at = (file: string) => join(dir, file);
  return {
    dir,
    ca: at("ca.pem"),
    caKey: at("ca-key.pem"),
    server: at("server.pem"),
    serverKey: at("server-key.pem"),
    client: at("client.pem"),
    clientKey: at("client-key.pem"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** An isolated node with a plain listener on `port` and an amqps one on `tlsPort` (scripts/broker start --tls). */
export class TlsNode extends IsolatedNode {
  readonly tlsUrl: string;

  constructor(
    label: string,
    port: number,
    readonly tlsPort: number,
    readonly certDir: string,
  ) {
    super(label, port);
    this.tlsUrl = `amqps://guest:guest@localhost:${tlsPort}`;
  }

  override start = async (): Promise<string> => {
    const args = ["start", this.name, String(this.port), "--tls", this.certDir, String(this.tlsPort)];
    const proc = Bun.spawn([BROKER_SCRIPT, ...args], { stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    if (code !== 0) throw new Error(`scripts/broker ${args.join(" ")} failed (${code}): ${err}${out}`);
    return out;
  };
}
