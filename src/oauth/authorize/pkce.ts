import {createHash, timingSafeEqual} from 'node:crypto'

/** RFC 7636 §4.1: code_verifier = 43*128unreserved. */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/
/** An S256 challenge is the base64url (no padding) SHA-256 of the verifier: 43 characters. */
const S256_CHALLENGE = /^[A-Za-z0-9\-_]{43}$/

/**
 * Why the PKCE part of an authorization request is not acceptable, or null. S256 is required:
 * a missing challenge, a missing method (which RFC 7636 §4.3 defaults to `plain`) and `plain`
 * itself are refused (OAuth 2.1 §4.1.1; RFC 9700 §2.1.1; MCP authorization: PKCE S256).
 */
export function codeChallengeProblem(challenge: string | undefined, method: string | undefined): string | null {
  if (challenge === undefined) return 'code_challenge is required (PKCE with S256)'
  if (method === undefined) return 'code_challenge_method is required and must be S256'
  if (method !== 'S256') return `code_challenge_method ${JSON.stringify(method.slice(0, 20))} is not supported; use S256`
  if (!S256_CHALLENGE.test(challenge)) return 'code_challenge is not a base64url SHA-256 value'
  return null
}

/**
 * RFC 7636 §4.6, in constant time. A verifier without a stored challenge is refused too
 * (RFC 9700 §2.1.1: PKCE downgrade), as is a challenge without a verifier.
 */
export function codeVerifierMatches(challenge: string | null, verifier: string | undefined): boolean {
  if (!challenge || verifier === undefined || !VERIFIER.test(verifier)) return false
  const computed = createHash('sha256').update(verifier, 'ascii').digest()
  const expected = Buffer.from(challenge, 'base64url')
  return expected.length === computed.length && timingSafeEqual(computed, expected)
}
