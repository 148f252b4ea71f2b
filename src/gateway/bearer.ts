/**
 * The bearer check in front of every MCP request (MCP 2025-11-25 authorization §Access Token
 * Usage; RFC 6750 §3; RFC 9728 §5.1): no token → 401 with `resource_metadata`; a refused token
 * → 401 with `error="invalid_token"`. The token's audience must be this resource (authorization
 * §Token Audience Binding and Validation), checked here even if the verifier checks it too.
 */
import type {IncomingMessage} from 'node:http'
import {bearerChallenge} from '../http/challenge.js'
import {InvalidTokenError, type Principal, type TokenVerifier} from '../principal/principal.js'

export type BearerResult = {ok: true; principal: Principal} | {ok: false; status: 401; wwwAuthenticate: string; description: string}

export interface BearerCheck {
  (req: IncomingMessage): Promise<BearerResult>
}

export function createBearerCheck({
  verifier,
  resource,
  resourceMetadataUrl,
  now,
}: {
  verifier: TokenVerifier
  /** The audience(s) accepted: the MCP endpoint under each name the daemon serves (config/issuer.ts). */
  resource: string | readonly string[]
  /** The metadata URL for the challenge, or a function of the request (the name and path the client used). */
  resourceMetadataUrl: string | ((req: IncomingMessage) => string)
  now: () => number
}): BearerCheck {
  const audiences = new Set(typeof resource === 'string' ? [resource] : resource)
  const metadataUrl = (req: IncomingMessage) => (typeof resourceMetadataUrl === 'string' ? resourceMetadataUrl : resourceMetadataUrl(req))
  const challengeFor = (req: IncomingMessage) => bearerChallenge({resource_metadata: metadataUrl(req)})
  return async function checkBearer(req) {
    const refuse = (description: string): BearerResult => ({
      ok: false,
      status: 401,
      description,
      wwwAuthenticate: bearerChallenge({resource_metadata: metadataUrl(req), error: 'invalid_token', error_description: description}),
    })
    const header = req.headers.authorization
    if (header === undefined || header === '') {
      return {ok: false, status: 401, description: 'missing bearer token', wwwAuthenticate: challengeFor(req)}
    }
    const match = /^Bearer[ \t]+([A-Za-z0-9\-._~+/]+=*)[ \t]*$/i.exec(header)
    if (!match) return refuse('the Authorization header is not a Bearer token')
    let principal: Principal
    try {
      principal = await verifier.verify(match[1]!)
    } catch (error) {
      if (error instanceof InvalidTokenError) return refuse(error.description)
      throw error
    }
    if (!audiences.has(principal.audience)) return refuse('the token is not for this resource')
    if (principal.expiresAt <= now()) return refuse('the token has expired')
    return {ok: true, principal}
  }
}
