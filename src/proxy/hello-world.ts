/**
 * The built-in `hello_world` service (docs/protocol.md §10.2): like cloudflared, a small HTTPS server on
 * `127.0.0.1:<random>` with a self-signed certificate, started on first use and proxied to as an ordinary HTTPS
 * origin that trusts exactly that certificate (`originServerName` is ignored for it).
 */
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createSelfSignedCa, generateEcdsaKeys, loadX509, privateKeyPem } from '../util/x509.js';
import type { OriginRequestConfig } from '../ingress/origin-request.js';
import { HttpOriginService } from './http-origin.js';
import type { OriginRequest, OriginResponse, OriginService } from './types.js';

/** Listen address of the built-in server (cloudflared: `127.0.0.1:` with a random port, §10.2). */
export const HELLO_WORLD_HOST = '127.0.0.1';

/** A fresh self-signed certificate for 127.0.0.1 / localhost. */
export async function generateHelloWorldCertificate(): Promise<{ certPem: string; keyPem: string }> {
  const x509 = await loadX509();
  const keys = await generateEcdsaKeys();
  const now = Date.now();
  const cert = await createSelfSignedCa({
    name: 'CN=localhost, O=cftunnel hello world',
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 365 * 24 * 3600_000),
    keys,
    keyUsages: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign,
    extensions: [
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: 'localhost' },
        { type: 'ip', value: HELLO_WORLD_HOST },
      ]),
    ],
  });
  return { certPem: `${cert.toString('pem')}\n`, keyPem: await privateKeyPem(keys.privateKey) };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(req: IncomingMessage): string {
  return (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>cftunnel hello world</title></head><body>' +
    '<h1>Congrats! You created a tunnel!</h1>' +
    `<p>This page is served by cftunnel's built-in hello_world service. Request: ${escapeHtml(`${req.method} ${req.url}`)}, ` +
    `Host: ${escapeHtml(req.headers.host ?? '')}</p></body></html>\n`
  );
}

/** Starts the hello-world HTTPS server; returns its URL, certificate and a closer. */
export async function startHelloWorldServer(): Promise<{ url: string; certPem: string; close(): Promise<void> }> {
  const { certPem, keyPem } = await generateHelloWorldCertificate();
  const server = https.createServer({ cert: certPem, key: keyPem }, (req, res) => {
    const body = page(req);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  server.listen(0, HELLO_WORLD_HOST);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://${HELLO_WORLD_HOST}:${port}`,
    certPem,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** `hello_world` origin: the server starts lazily and stops with the service. */
export class HelloWorldService implements OriginService {
  private started: Promise<{ origin: HttpOriginService; close(): Promise<void> }> | undefined;

  constructor(private readonly options: Partial<OriginRequestConfig> = {}) {}

  private start(): Promise<{ origin: HttpOriginService; close(): Promise<void> }> {
    this.started ??= startHelloWorldServer().then(
      (server) => ({
        origin: new HttpOriginService(
          { origin: server.url },
          { options: this.options, extraCa: [server.certPem], ignoreServerName: true },
        ),
        close: server.close,
      }),
      (err: unknown) => {
        // A failed start is retried by the next request instead of failing the rule for good.
        this.started = undefined;
        throw err;
      },
    );
    return this.started;
  }

  async roundTrip(req: OriginRequest, signal: AbortSignal): Promise<OriginResponse> {
    const { origin } = await this.start();
    return origin.roundTrip(req, signal);
  }

  async close(): Promise<void> {
    const started = this.started;
    if (started === undefined) return;
    const { origin, close } = await started;
    await origin.close();
    await close();
  }
}
