// Forged, foreign and stale access tokens. Rules: RFC 9068 §4 (validate iss, aud, typ at+jwt,
// signature with the server's keys, exp), RFC 8725 §2.1 and §3.1 (alg confusion: `none` and
// HS256-with-the-public-key refused; algorithms fixed), RFC 7515 §4.1.2-§4.1.5 and RFC 8725 §3.10
// (jku, jwk, x5u are never trusted; kid only looks up our own keys), RFC 7519 §4.1.4 and §4.1.6
// (exp, iat; clock skew), RFC 8707 and MCP authorization §Token Audience Binding.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair} from 'jose'
import {loadKeyring} from '../../src/oauth/keys/keyring.js'
import {rotateSigningKey} from '../../src/oauth/keys/generate.js'
import {createFileVault} from '../../src/secrets/file-vault.js'
import {assertStillServes, forgeJwt, generousLimits, infoWith, perFile} from '../helpers/attacks.js'
import {fetchToken} from '../helpers/clients.js'
import {serve} from '../helpers/oauth-client.js'
import {startInProcess} from '../helpers/server.js'

const server = perFile(async (t) => {
  const s = await startInProcess(t, generousLimits)
  const agent = await s.client({name: 'holder'})
  const real = await fetchToken(s.issuer, agent)
  const keyring = await loadKeyring({store: s.store, vaults: {file: createFileVault(s.dataDir)}, clock: s.clock})
  const {kid, key} = keyring.signer()
  const now = Math.floor(s.clock.now() / 1000)
  const claims = {iss: s.issuer, sub: agent.client_id, aud: `${s.issuer}/mcp`, client_id: agent.client_id, scope: 'mcp', iat: now, exp: now + 600, jti: 'j1'}
  /** Signed with the server's own key: only the claims or header given differ. */
  const ours = (payload: Record<string, unknown> = {}, header: Record<string, unknown> = {}) => forgeJwt({alg: 'ES256', kid, typ: 'at+jwt', ...header}, {...claims, ...payload}, key)
  return {s, agent, real, kid, now, claims, ours, foreign: await generateKeyPair('ES256', {extractable: true})}
})

async function refused(token: string, why?: RegExp) {
  const {s} = server()
  const r = await infoWith(s.issuer, token)
  assert.equal(r.status, 401)
  assert.match(r.challenge, /error="invalid_token"/)
  if (why) assert.match(r.body.error_description!, why)
}

test('control: a token signed by our key with the right claims is accepted', async () => {
  const {s, ours, real} = server()
  assert.equal((await infoWith(s.issuer, await ours())).status, 200)
  assert.equal((await infoWith(s.issuer, real)).status, 200)
})

test('alg none is refused (RFC 8725 §3.1)', async () => {
  const {real, kid} = server()
  await refused(await forgeJwt({alg: 'none', typ: 'at+jwt', kid}, decodeJwt(real)))
})

test('alg confusion: HS256 keyed with our public key is refused (RFC 8725 §2.1, §3.1)', async () => {
  const {s, real, kid} = server()
  const jwk = (await (await fetch(`${s.issuer}/.well-known/jwks.json`)).json()) as {keys: unknown[]}
  const secret = new TextEncoder().encode(JSON.stringify(jwk.keys[0]))
  await refused(await forgeJwt({alg: 'HS256', typ: 'at+jwt', kid}, decodeJwt(real), secret as never))
})

test('a foreign key with our kid is refused (RFC 9068 §4)', async () => {
  const {real, kid, foreign} = server()
  await refused(await forgeJwt({alg: 'ES256', typ: 'at+jwt', kid}, decodeJwt(real), foreign.privateKey))
})

test('a foreign key with an unknown kid, or no kid, is refused (RFC 9068 §4)', async () => {
  const {real, foreign} = server()
  await refused(await forgeJwt({alg: 'ES256', typ: 'at+jwt', kid: 'attacker'}, decodeJwt(real), foreign.privateKey), /unknown signing key/)
  await refused(await forgeJwt({alg: 'ES256', typ: 'at+jwt'}, decodeJwt(real), foreign.privateKey))
})

test('a tampered payload under a real signature is refused (RFC 7515 §5.2)', async () => {
  const {real} = server()
  const [h, , sig] = real.split('.')
  await refused(`${h}.${Buffer.from(JSON.stringify({...decodeJwt(real), scope: 'admin'})).toString('base64url')}.${sig}`)
})

test('garbage in the shape of a JWT is refused', async () => {
  await refused('abc.def.ghi')
  await refused(`${'a'.repeat(9000)}.b.c`)
})

for (const [trick, kid] of [
  ['path traversal', '../../../../etc/passwd'],
  ['SQL-ish', "' OR '1'='1' --"],
  ['__proto__', '__proto__'],
  ['constructor', 'constructor'],
  ['empty', ''],
  ['very long', 'k'.repeat(4000)],
  ['NUL and CR/LF', 'a\u0000b\r\nc'],
] as const) {
  test(`kid trick (${trick}) with a foreign key is refused and harms nothing (RFC 8725 §3.10)`, async () => {
    const {s, real, foreign} = server()
    await refused(await forgeJwt({alg: 'ES256', typ: 'at+jwt', kid}, decodeJwt(real), foreign.privateKey))
    await assertStillServes(s.issuer)
  })
}

test('kid trick: our own key under a kid that is not its own is refused (RFC 8725 §3.10)', async () => {
  const {ours} = server()
  await refused(await ours({}, {kid: '../keys/current'}))
})

test('an embedded jwk header carrying the attacker\'s key is ignored (RFC 7515 §4.1.3; RFC 8725 §3.10)', async () => {
  const {real, foreign} = server()
  const jwk = await exportJWK(foreign.publicKey)
  await refused(await forgeJwt({alg: 'ES256', typ: 'at+jwt', jwk}, decodeJwt(real), foreign.privateKey))
  await refused(await forgeJwt({alg: 'ES256', typ: 'at+jwt', kid: 'attacker', jwk: {...jwk, kid: 'attacker'}}, decodeJwt(real), foreign.privateKey))
})

test('jku and x5u headers are never fetched or trusted (RFC 7515 §4.1.2, §4.1.5; RFC 8725 §3.10)', async (t) => {
  const {real, foreign} = server()
  const jwk = {...(await exportJWK(foreign.publicKey)), kid: 'attacker', alg: 'ES256'}
  let fetched = 0
  const {url} = await serve(t, (_req, res) => {
    fetched++
    res.writeHead(200, {'Content-Type': 'application/json'}).end(JSON.stringify({keys: [jwk]}))
  })
  await refused(await forgeJwt({alg: 'ES256', typ: 'at+jwt', kid: 'attacker', jku: `${url}/jwks.json`}, decodeJwt(real), foreign.privateKey))
  await refused(await forgeJwt({alg: 'ES256', typ: 'at+jwt', kid: 'attacker', x5u: `${url}/cert.pem`}, decodeJwt(real), foreign.privateKey))
  assert.equal(fetched, 0, 'the server never fetched the attacker\'s keys')
})

test('wrong issuer is refused even when signed with our key (RFC 9068 §4)', async () => {
  await refused(await server().ours({iss: 'https://evil.example'}))
})

test('wrong audience (a token for another resource) is refused even when signed with our key (RFC 8707; RFC 9068 §4)', async () => {
  await refused(await server().ours({aud: 'https://other.example/mcp'}))
})

test('wrong typ (an ID token or plain JWT) is refused even when signed with our key (RFC 9068 §4; RFC 8725 §3.11)', async () => {
  await refused(await server().ours({}, {typ: 'JWT'}))
  await refused(await server().ours({}, {typ: undefined}))
})

test('a token without exp is refused (RFC 9068 §2.2)', async () => {
  await refused(await server().ours({exp: undefined}))
})

test('a token not yet valid (nbf in the future) is refused (RFC 7519 §4.1.5)', async () => {
  const {ours, now} = server()
  await refused(await ours({iat: now + 3600, nbf: now + 3600, exp: now + 7200}))
})

test('clock skew: a token issued in the future (iat ahead, no nbf) is refused (RFC 7519 §4.1.6; RFC 9068 §4)', async () => {
  const {ours, now, s} = server()
  await refused(await ours({iat: now + 3600, exp: now + 7200}), /issued in the future/)
  // A few seconds of skew between processes is tolerated.
  assert.equal((await infoWith(s.issuer, await ours({iat: now + 5, jti: 'skew-ok'}))).status, 200)
})

test('clock skew: a token one second past exp is refused, with no tolerance (RFC 7519 §4.1.4)', async () => {
  const {ours, now} = server()
  await refused(await ours({iat: now - 601, exp: now - 1}), /expired/)
  await refused(await ours({iat: now - 600, exp: now}), /expired/)
})

test('expiry on the server\'s own clock: a real token is refused once its time is up (RFC 9068 §4)', async (t) => {
  const s = await startInProcess(t)
  const agent = await s.client({name: 'holder'})
  const real = await fetchToken(s.issuer, agent)
  assert.equal((await infoWith(s.issuer, real)).status, 200)
  s.clock.advance(3601 * 1000)
  const r = await infoWith(s.issuer, real)
  assert.equal(r.status, 401)
  assert.match(r.body.error_description!, /expired/)
})

test('kid of a retired key past its verify-until is refused, even for an unexpired token (RFC 7517; RFC 8725 §3.10)', async (t) => {
  const s = await startInProcess(t)
  const agent = await s.client({name: 'holder'})
  const vault = createFileVault(s.dataDir)
  const keyring = await loadKeyring({store: s.store, vaults: {file: vault}, clock: s.clock})
  const old = keyring.signer()
  const now = Math.floor(s.clock.now() / 1000)
  const long = await forgeJwt({alg: 'ES256', kid: old.kid, typ: 'at+jwt'}, {iss: s.issuer, sub: agent.client_id, aud: `${s.issuer}/mcp`, client_id: agent.client_id, scope: 'mcp', iat: now, exp: now + 3 * 3600, jti: 'old-key'}, old.key)
  await rotateSigningKey({store: s.store, vault, clock: s.clock})
  assert.equal((await infoWith(s.issuer, long)).status, 200, 'a retired key still verifies until its verify-until')
  assert.notEqual(decodeProtectedHeader(await fetchToken(s.issuer, agent)).kid, old.kid, 'new tokens use the new key')
  s.clock.advance(3600 * 1000 + 1000)
  const r = await infoWith(s.issuer, long)
  assert.equal(r.status, 401)
  assert.match(r.body.error_description!, /unknown signing key/)
})
