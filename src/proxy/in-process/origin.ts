/**
 * What a library user may pass as an origin, and how each kind becomes an origin service: a URL is dialled like
 * any ingress service; a Node `http.Server` or `(req, res)` listener (Express, Koa's `callback()`, …) and anything
 * with a `fetch(request)` method (Hono, itty-router, a `{ fetch }` object) are served in-process, without a port.
 */
import http from 'node:http';
import { FetchOriginService, type FetchHandler } from './fetch-origin.js';
import { createNodeOriginService, type NodeRequestListener } from './node-origin.js';
import type { OriginService } from '../types.js';

/** An object exposing a fetch-style handler, e.g. a Hono app. */
export interface FetchApp {
  fetch: FetchHandler;
}

/** An origin: a service URL (`http://localhost:8080`), a Node server or listener, or a fetch-style app. */
export type Origin = string | http.Server | NodeRequestListener | FetchApp;

/** True for origins served in-process (everything but a service string). */
export function isInProcessOrigin(origin: Origin): origin is Exclude<Origin, string> {
  return typeof origin !== 'string';
}

/** A factory of fresh origin services for an in-process origin. */
export function inProcessServiceFactory(origin: Exclude<Origin, string>): () => OriginService {
  if (origin instanceof http.Server) return () => createNodeOriginService(origin);
  if (typeof origin === 'function') {
    // One server for the listener, shared by every service made from it: it never listens.
    const server = http.createServer(origin);
    return () => createNodeOriginService(server);
  }
  if (typeof origin === 'object' && origin !== null && typeof origin.fetch === 'function') {
    const handler: FetchHandler = (request) => origin.fetch(request);
    return () => new FetchOriginService(handler);
  }
  throw new TypeError(
    'an origin must be a URL string, an http.Server, a (req, res) listener or an object with fetch()',
  );
}
