/**
 * Throwaway TLS material for the tests: a CA and a server certificate it
 * signed (for 127.0.0.1 and localhost), made with the `openssl` binary in a
 * temporary directory. Without `openssl` the tests fail: CI installs it.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { detectRuntime } from "../mod.ts";
import type { TlsConnectOptions, TlsListenOptions, Transport } from "../mod.ts";
import type { TransportCase } from "./helpers.ts";

/** PEM texts, and the files they were read from while `dir` exists. */
export interface TestCerts {
  /** The temporary directory holding the files. */
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  /** The CA certificate: what clients trust. */
  ca: string;
  /** The CA's private key: a valid key that does not match `cert`. */
  caKey: string;
  /** The server certificate, for 127.0.0.1 and localhost. */
  cert: string;
  /** The server's private key. */
  key: string;
  /** Deletes the directory (the PEM texts stay usable). */
  remove(): Promise<void>;
}

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

function openssl(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile("openssl", args, (error, _stdout, stderr) => {
      if (error === null) {
        resolve();
      } else if ((error as { code?: unknown }).code === "ENOENT") {
        reject(new Error("The TLS tests need the openssl binary: apt-get install openssl"));
      } else {
        reject(new Error(`openssl ${args[0]} failed: ${stderr}`, { cause: error }));
      }
    });
  });
}

/**
 * Makes a CA and a server certificate signed by it, valid for one day. The
 * server certificate is not self-signed because rustls (Deno) refuses a CA
 * certificate as a server's.
 */
export async function makeTestCerts(): Promise<TestCerts> {
  const dir = await mkdtemp(join(tmpdir(), "kn-sock-tls-"));
  const remove = (): Promise<void> => rm(dir, { recursive: true, force: true });
  const caFile = join(dir, "ca.pem");
  const caKeyFile = join(dir, "ca.key");
  const certFile = join(dir, "server.pem");
  const keyFile = join(dir, "server.key");
  try {
    await openssl([
      "req",
      "-x509",
      ...EC_KEY,
      "-days",
      "1",
      "-subj",
      "/CN=kn-sock test CA",
      "-keyout",
      caKeyFile,
      "-out",
      caFile,
    ]);
    await openssl([
      "req",
      "-x509",
      ...EC_KEY,
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "-addext",
      "basicConstraints=critical,CA:FALSE",
      "-CA",
      caFile,
      "-CAkey",
      caKeyFile,
      "-keyout",
      keyFile,
      "-out",
      certFile,
    ]);
    const [ca, caKey, cert, key] = await Promise.all(
      [caFile, caKeyFile, certFile, keyFile].map((file) => readFile(file, "utf8")),
    );
    return { dir, caFile, certFile, keyFile, ca, caKey, cert, key, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}

/** A transport that listens with `listen` and connects with `connect` TLS options. */
export function withTls(
  transport: Transport,
  listen: TlsListenOptions,
  connect: TlsConnectOptions,
): Transport {
  return {
    name: `${transport.name}+tls`,
    listen: (options) => transport.listen({ ...options, tls: listen }),
    connect: (options) => transport.connect({ ...options, tls: connect }),
  };
}

/**
 * The TCP transport cases, each over TLS with `certs`. Not node:tls on Deno:
 * a `node:tls` socket there never emits 'end' when the peer's close_notify
 * arrives while it is paused, so a half-close after backpressure is lost.
 */
export function tlsCases(cases: TransportCase[], certs: TestCerts): TransportCase[] {
  const skipped = detectRuntime() === "deno" ? ["memory", "node"] : ["memory"];
  return cases.filter((c) => !skipped.includes(c.name)).map(({ name, make }) => ({
    name: `${name}+tls`,
    make: () => withTls(make(), { cert: certs.cert, key: certs.key }, { ca: certs.ca }),
  }));
}
