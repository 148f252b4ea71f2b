import {createServer as createHttp, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {createServer as createHttps} from 'node:https'
import type {AddressInfo} from 'node:net'
import {GatehouseError} from '../errors.js'

export interface HttpLimits {
  /** Largest request head (request line + headers), bytes; beyond it Node answers 431. */
  maxHeaderBytes: number
  /** Time to receive the request head, ms (slowloris). */
  headersTimeoutMs: number
  /** Time to receive the whole request, ms. Streams of responses (SSE) are not cut by it. */
  requestTimeoutMs: number
  keepAliveTimeoutMs: number
  maxConnections: number
  /** Bytes of request bodies held at once, all clients together; beyond: 503 (http/body-budget.ts). */
  maxBodyBytesInFlight: number
  /** Bytes of request bodies held at once by one client (or address before authentication). */
  maxBodyBytesInFlightPerClient: number
  /** After refusing a body (413, 503): how many more of its bytes are read and discarded before closing. */
  drainBytes: number
  /** ... and for how long, ms. */
  drainMs: number
}

export const defaultHttpLimits: HttpLimits = {
  maxHeaderBytes: 16 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 1024,
  maxBodyBytesInFlight: 32 * 1024 * 1024,
  maxBodyBytesInFlightPerClient: 12 * 1024 * 1024,
  drainBytes: 128 * 1024 * 1024,
  drainMs: 30_000,
}

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void

/** How often Node checks incomplete requests against headersTimeout and requestTimeout, ms. */
export function connectionsCheckingInterval(limits: Pick<HttpLimits, 'headersTimeoutMs' | 'requestTimeoutMs'>): number {
  return Math.max(50, Math.min(1000, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4)))
}

/** Starts node:http (or https with a certificate) and resolves once listening. */
export async function listen(
  listener: RequestListener,
  {host, port, tls, limits}: {host: string; port: number; tls?: {cert: Buffer; key: Buffer} | undefined; limits: HttpLimits},
): Promise<{server: Server; port: number}> {
  const options = {
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Node enforces headersTimeout and requestTimeout only when it sweeps its connections, every
    // 30 s by default: a slow head would then live up to 40 s, not the 10 s promised. Sweep often
    // enough that each limit holds to within a quarter of itself (at most 1 s late).
    connectionsCheckingInterval: connectionsCheckingInterval(limits),
    // Reject requests with both Content-Length and Transfer-Encoding and other ambiguous framing.
    insecureHTTPParser: false,
  }
  const server = tls ? createHttps({...options, cert: tls.cert, key: tls.key}, listener) : createHttp(options, listener)
  server.maxConnections = limits.maxConnections
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, host, port)))
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  return {server, port: (server.address() as AddressInfo).port}
}

/** A port that cannot be had is the user's setting, not a crash: a one-line error (exit 11) with what to do. */
function listenError(error: NodeJS.ErrnoException, host: string, port: number): Error {
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`
  if (error.code === 'EADDRINUSE') return new GatehouseError('CONFIG', `${where} is already in use by another program; choose another --port (0: any free port)`)
  if (error.code === 'EACCES') return new GatehouseError('CONFIG', `not allowed to listen on ${where} (ports below 1024 need privileges); choose another --port`)
  if (error.code === 'EADDRNOTAVAIL') return new GatehouseError('CONFIG', `${host} is not an address of this machine; choose another --host`)
  return error
}
