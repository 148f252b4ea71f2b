import {createPublicKey} from 'node:crypto'
import {invalidInput} from '../errors.js'

/** Signature algorithms accepted for private_key_jwt client assertions (RFC 7523). */
export const ASSERTION_ALGS = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA'] as const

type Jwk = Record<string, unknown>

/**
 * A client's public key(s) for private_key_jwt, from a PEM public key, a JWK or a JWKS document.
 * Private keys are refused: the server must never hold a client's private key.
 */
export function parsePublicKeys(text: string, source = 'the public key'): {keys: Jwk[]} {
  const trimmed = text.trim()
  let keys: Jwk[]
  if (trimmed.startsWith('-----BEGIN')) {
    if (/PRIVATE KEY/.test(trimmed)) throw invalidInput(`${source} is a private key; give the public key`)
    try {
      keys = [createPublicKey(trimmed).export({format: 'jwk'}) as Jwk]
    } catch (error) {
      throw invalidInput(`${source} is not a usable PEM public key (${(error as Error).message})`)
    }
  } else {
    let doc: unknown
    try {
      doc = JSON.parse(trimmed)
    } catch {
      throw invalidInput(`${source} is neither a PEM public key nor JSON (a JWK or JWKS)`)
    }
    const list = (doc as {keys?: unknown}).keys
    keys = Array.isArray(list) ? (list as Jwk[]) : [doc as Jwk]
  }
  if (keys.length === 0 || keys.length > 10) throw invalidInput(`${source} must hold 1 to 10 keys`)
  return {keys: keys.map((k, i) => checkJwk(k, `${source} (key ${i + 1})`))}
}

function checkJwk(jwk: Jwk, where: string): Jwk {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw invalidInput(`${where} is not a JWK object`)
  if ('d' in jwk || 'p' in jwk || 'k' in jwk) throw invalidInput(`${where} holds private or symmetric key material; give the public key`)
  if (!['EC', 'RSA', 'OKP'].includes(String(jwk.kty))) throw invalidInput(`${where}: unsupported key type ${JSON.stringify(jwk.kty)}`)
  if (jwk.alg !== undefined && !(ASSERTION_ALGS as readonly string[]).includes(String(jwk.alg))) {
    throw invalidInput(`${where}: unsupported alg ${JSON.stringify(jwk.alg)}`)
  }
  try {
    createPublicKey({key: jwk as import('node:crypto').JsonWebKey, format: 'jwk'})
  } catch (error) {
    throw invalidInput(`${where} is not a valid public key (${(error as Error).message})`)
  }
  if (jwk.kty === 'RSA' && Buffer.from(String(jwk.n), 'base64url').length < 256) {
    throw invalidInput(`${where}: RSA keys must be at least 2048 bits`)
  }
  return jwk
}
