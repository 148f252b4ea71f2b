// --oidc-client-key-file (issue 17, private_key_jwt towards the upstream provider; RFC 7523 §2.2,
// OIDC Core §9): which key files are accepted, the JWS algorithm each implies (RFC 7518 §3.1,
// RFC 8037 §3.1), the key id (the JWK's, else the RFC 7638 thumbprint), and clear CONFIG errors.
import assert from 'node:assert/strict'
import {generateKeyPairSync} from 'node:crypto'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'node:test'
import {calculateJwkThumbprint, compactVerify, importJWK} from 'jose'
import * as oidc from 'openid-client'
import {GatehouseError} from '../../src/errors.js'
import {privateKeyJwtAuth, readClientKey} from '../../src/users/oidc/client-key.js'
import {tempDir} from '../helpers/tmp.js'

test('key files: PEM (PKCS #8, PKCS #1, SEC 1) and JWK; the algorithm by type; the kid from the JWK', (t) => {
  const dir = tempDir(t)
  const file = (name: string, text: string) => {
    const p = join(dir, name)
    writeFileSync(p, text)
    return p
  }
  const rsa = generateKeyPairSync('rsa', {modulusLength: 2048})
  const p384 = generateKeyPairSync('ec', {namedCurve: 'P-384'})
  const ed = generateKeyPairSync('ed25519')
  const cases: Array<[string, string, string | undefined]> = [
    [file('rsa-pkcs1.pem', rsa.privateKey.export({type: 'pkcs1', format: 'pem'}) as string), 'RS256', undefined],
    [file('rsa-pkcs8.pem', rsa.privateKey.export({type: 'pkcs8', format: 'pem'}) as string), 'RS256', undefined],
    [file('p384-sec1.pem', p384.privateKey.export({type: 'sec1', format: 'pem'}) as string), 'ES384', undefined],
    [file('ed.jwk', JSON.stringify({...ed.privateKey.export({format: 'jwk'}), kid: 'gatehouse-1'})), 'EdDSA', 'gatehouse-1'],
    [file('rsa-ps.jwk', JSON.stringify({...rsa.privateKey.export({format: 'jwk'}), alg: 'PS384'})), 'PS384', undefined],
  ]
  for (const [path, alg, kid] of cases) {
    const key = readClientKey(path)
    assert.deepEqual([key.alg, key.kid], [alg, kid], path)
    assert.ok(key.jwk.d, 'the private part is kept')
  }
})

test('bad key files are CONFIG errors naming the file and the reason', (t) => {
  const dir = tempDir(t)
  const ec = generateKeyPairSync('ec', {namedCurve: 'P-256'})
  const x25519 = generateKeyPairSync('x25519')
  const bad: Array<[string, string, RegExp]> = [
    ['public.pem', ec.publicKey.export({type: 'spki', format: 'pem'}) as string, /not a PEM private key or a JWK/],
    ['public.jwk', JSON.stringify(ec.publicKey.export({format: 'jwk'})), /a public key/],
    ['hmac.jwk', JSON.stringify({kty: 'oct', k: 'c2VjcmV0'}), /symmetric/],
    ['x25519.pem', x25519.privateKey.export({type: 'pkcs8', format: 'pem'}) as string, /cannot sign a client assertion/],
    ['garbage.pem', '-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n', /not a usable private key/],
    ['broken.jwk', '{"kty": "EC"', /not a usable private key/],
  ]
  for (const [name, text, why] of bad) {
    const path = join(dir, name)
    writeFileSync(path, text)
    assert.throws(() => readClientKey(path), (e: unknown) => e instanceof GatehouseError && e.code === 'CONFIG' && why.test(e.message) && e.message.includes(path), name)
  }
  assert.throws(() => readClientKey(join(dir, 'missing.pem')), (e: unknown) => e instanceof GatehouseError && e.code === 'CONFIG' && /ENOENT/.test(e.message))
})

test('the client assertion openid-client signs: kid is the RFC 7638 thumbprint when the file has none, and verifies with the public key', async (t) => {
  const dir = tempDir(t)
  const ec = generateKeyPairSync('ec', {namedCurve: 'P-256'})
  const path = join(dir, 'key.pem')
  writeFileSync(path, ec.privateKey.export({type: 'pkcs8', format: 'pem'}) as string)
  const key = readClientKey(path)
  const auth = await privateKeyJwtAuth(key)
  // openid-client applies the client authentication to the token request's body and headers.
  const body = new URLSearchParams()
  const headers = new Headers()
  await auth({issuer: 'https://idp.example', token_endpoint: 'https://idp.example/token'} as oidc.ServerMetadata, {client_id: 'gatehouse'} as oidc.ClientMetadata, body, headers)
  assert.equal(body.get('client_assertion_type'), 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
  const publicJwk = ec.publicKey.export({format: 'jwk'})
  const {protectedHeader, payload} = await compactVerify(body.get('client_assertion')!, await importJWK({...publicJwk, alg: 'ES256'} as never, 'ES256'))
  assert.equal(protectedHeader.kid, await calculateJwkThumbprint(publicJwk as never, 'sha256'))
  assert.equal(protectedHeader.alg, 'ES256')
  const claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>
  assert.deepEqual([claims.iss, claims.sub], ['gatehouse', 'gatehouse'], 'RFC 7523 §3: iss and sub are the client id')
})
