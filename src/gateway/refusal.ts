/**
 * The one error type of the MCP endpoint, both eras (2025 sessions and 2026-07-28 requests):
 * a `Refusal` is an HTTP status, a JSON-RPC error (code, message, the request's id where it
 * could be read, data) and the headers that go with it (WWW-Authenticate, Retry-After, Allow).
 * Steps throw it; `answerRefusal` is the one place that turns it into a response.
 *
 * MCP 2025-11-25 transports §Sending Messages, 4 and 2026-07-28 basic-index §Error responses:
 * an HTTP error carries a JSON-RPC error body (id null when the request's id is unknown).
 */
import type {ServerResponse} from 'node:http'
import {sendRefusal as sendBodyRefusal, type BodyRefusedError} from '../http/body.js'
import {bearerChallenge} from '../http/challenge.js'
import {ErrorCode, errorResponse, type JsonRpcId} from './json-rpc.js'
import {ALL_VERSIONS} from './protocol-version.js'

export class Refusal extends Error {
  override readonly name = 'Refusal'
  /** Set when the request's body was refused while being read: answered once the rest is discarded (http/body.ts). */
  bodyError?: BodyRefusedError

  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly headers: Record<string, string> = {},
    /** For the audit trail, when the refusal is of a request the policy forbade. */
    readonly forbidden?: {method: string; name: string},
    /** The id of the refused request, where it could be read (2026-07-28 basic-index §Error responses); null otherwise. */
    readonly id: JsonRpcId | null = null,
    /** The JSON-RPC error's `data` (e.g. the `supported` versions of UnsupportedProtocolVersionError). */
    readonly data?: unknown,
  ) {
    super(message)
  }

  /** The JSON-RPC error body of this refusal. */
  body(): string {
    return errorResponse(this.id, this.code, this.message, this.data)
  }
}

/** 400 Invalid Request (-32600) with no id: a message the endpoint cannot take (transports §Sending Messages). */
export const invalidRequest = (message: string, status = 400, headers?: Record<string, string>): Refusal =>
  new Refusal(status, ErrorCode.InvalidRequest, message, headers)

/**
 * 400 UnsupportedProtocolVersionError (2026-07-28 versioning §Protocol Version Negotiation) for a
 * version neither era serves, listing every version served: a dual-era client retries with one
 * of them (transports-streamable-http §Backward Compatibility). `id`: the request's, or null.
 */
export const versionRefusal = (id: JsonRpcId | null, requested: string | undefined): Refusal =>
  new Refusal(400, ErrorCode.UnsupportedProtocolVersion, 'Unsupported protocol version', {}, undefined, id, {supported: [...ALL_VERSIONS], requested: requested ?? null})

/**
 * A request body refused while it was read (413 too large, 503 over the gateway's body budget,
 * http/body.ts): -32600 or -32603, answered after the rest of the body is discarded.
 */
export function bodyRefusal(error: BodyRefusedError): Refusal {
  const refusal = new Refusal(error.status, error.status === 503 ? ErrorCode.InternalError : ErrorCode.InvalidRequest, error.message)
  refusal.bodyError = error
  return refusal
}

/**
 * 403 with the scope challenge (RFC 6750 §3.1; MCP 2025-11-25 authorization §Scope Challenge
 * Handling): `scope` is what the token holds plus what it lacks, so a step-up keeps what was
 * granted; `description` says what needs it. Built by bearerChallenge: no text can break the header.
 */
export function insufficientScope(scope: string, description: string, resourceMetadataUrl: string, forbidden?: {method: string; name: string}): Refusal {
  return new Refusal(
    403,
    ErrorCode.InvalidRequest,
    `Forbidden: ${description}`,
    {'www-authenticate': bearerChallenge({error: 'insufficient_scope', scope, resource_metadata: resourceMetadataUrl, error_description: description})},
    forbidden,
  )
}

/**
 * Sends `refusal` as the response: its status, its headers, and its JSON-RPC error as an
 * application/json body. A response already under way (an SSE stream) is only ended.
 */
export function answerRefusal(res: ServerResponse, refusal: Refusal): void {
  if (refusal.bodyError) return sendBodyRefusal(res, refusal.bodyError, 'application/json', refusal.body(), refusal.headers)
  if (res.headersSent) {
    res.end()
    return
  }
  res.writeHead(refusal.status, {'content-type': 'application/json', ...refusal.headers})
  res.end(refusal.body())
}
