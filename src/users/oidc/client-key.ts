import {createPrivateKey, type JsonWebKey, type KeyObject} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {calculateJwkThumbprint, importJWK, type JWK} from 'jose'
import type * as Oidc from 'openid-client'
import {GatehouseError} from '../../errors.js'

/**
 * Gatehouse's private key for `private_key_jwt` at the upstream provider (RFC 7523 §2.2, OIDC
 * Core §9): the private JWK, the JWS algorithm its type implies, and the key id when the file
 * gave one.
 */
export interface ClientKey {
  jwk: JWK
  alg: string
  kid: string | undefined
}

/** The JWS algorithm for a private JWK: its own `alg`, else by type (RSA: RS256; EC by curve; Ed25519: EdDSA; RFC 7518 §3.1, RFC 8037 §3.1). */
function algorithmOf(jwk: JWK, declared: unknown): string | undefined {
  if (typeof declared === 'string') return declared
  if (jwk.kty === 'RSA') return 'RS256'
  if (jwk.kty === 'EC') return ({'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512'} as Record<string, string>)[jwk.crv ?? '']
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA'
  return undefined
}

/**
 * Reads `--oidc-client-key-file`: a private key as PEM (PKCS #8, PKCS #1 or SEC 1) or as a JWK
 * (JSON, with its private part). CONFIG errors, naming the file: unreadable, neither PEM nor a JWK,
 * a public key only, or a key type with no JWS signature algorithm (RSA, EC P-256/384/521 and
 * Ed25519 have one).
 */
export function readClientKey(file: string): ClientKey {
  let text: string
  try {
    text = readFileSync(file, 'utf8').trim()
  } catch (error) {
    throw new GatehouseError('CONFIG', `cannot read --oidc-client-key-file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
  let declared: Record<string, unknown> = {}
  let key: KeyObject
  try {
    if (text.startsWith('{')) {
      declared = JSON.parse(text) as Record<string, unknown>
      if (declared.kty === 'oct') throw new Error('a symmetric (oct) key: private_key_jwt signs with an asymmetric private key')
      if (declared.d === undefined) throw new Error('a public key: the private key is needed to sign')
      key = createPrivateKey({key: declared as JsonWebKey, format: 'jwk'})
    } else {
      if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) throw new Error('not a PEM private key or a JWK')
      key = createPrivateKey(text)
    }
  } catch (error) {
    throw new GatehouseError('CONFIG', `--oidc-client-key-file ${file} is not a usable private key (PEM or JWK): ${(error as Error).message}`)
  }
  const jwk = key.export({format: 'jwk'}) as JWK
  const alg = algorithmOf(jwk, declared.alg)
  if (!alg) throw new GatehouseError('CONFIG', `--oidc-client-key-file ${file}: a ${key.asymmetricKeyType ?? 'symmetric'} key cannot sign a client assertion (use RSA, EC P-256/384/521 or Ed25519)`)
  return {jwk, alg, kid: typeof declared.kid === 'string' ? declared.kid : undefined}
}

/**
 * openid-client's `private_key_jwt` client authentication with this key: the key id is the JWK's
 * `kid`, else its RFC 7638 thumbprint (what providers that compute kids from a registered JWKS
 * expect). The assertion itself (iss = sub = client id, aud, jti, exp) is openid-client's.
 */
export async function privateKeyJwtAuth(key: ClientKey): Promise<Oidc.ClientAuth> {
  // Loaded on use, as in upstream-login.ts: a daemon without upstream sign-in never loads it.
  const oidc = await import('openid-client')
  const {d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk} = key.jwk
  const kid = key.kid ?? (await calculateJwkThumbprint(publicJwk as JWK, 'sha256'))
  const cryptoKey = (await importJWK({...key.jwk, alg: key.alg}, key.alg)) as Oidc.CryptoKey
  return oidc.PrivateKeyJwt({key: cryptoKey, kid})
}
