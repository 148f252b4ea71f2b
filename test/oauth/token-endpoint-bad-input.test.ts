import assert from 'node:assert/strict'
import {test} from 'node:test'
import {SignJWT, generateKeyPair, exportJWK, decodeJwt, decodeProtectedHeader, type CryptoKey} from 'jose'
import {basic, fetchToken} from '../helpers/clients.js'
import {startInProcess} from '../helpers/server.js'

const form = 'application/x-www-form-urlencoded'

async function post(url: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, {method: 'POST', headers: {'Content-Type': form, ...headers}, body})
  const text = await res.text()
  return {status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, string>) : {}}
}

test('every bad token request gets the standard error and issues nothing', async (t) => {
  const s = await startInProcess(t)
  const agent = await s.client({name: 'agent', scopes: ['mcp', 'read']})
  const codeOnly = await s.client({name: 'web', grantTypes: ['authorization_code'], redirectUris: ['https://app.example/cb']})
  const token = `${s.issuer}/oauth/token`
  const auth = {Authorization: basic(agent.client_id, agent.client_secret)}
  const cc = 'grant_type=client_credentials'
  const cases: Array<[string, Promise<{status: number; body: Record<string, string>; headers: Headers}>, number, string]> = [
    ['missing grant_type', post(token, 'scope=mcp', auth), 400, 'invalid_request'],
    ['unknown grant_type', post(token, 'grant_type=password&username=a&password=b', auth), 400, 'unsupported_grant_type'],
    ['credentials in header and body', post(token, `${cc}&client_id=${agent.client_id}&client_secret=${agent.client_secret}`, auth), 400, 'invalid_request'],
    ['repeated parameter', post(token, `${cc}&scope=mcp&scope=read`, auth), 400, 'invalid_request'],
    ['two resources', post(token, `${cc}&resource=${s.issuer}/mcp&resource=${s.issuer}/mcp`, auth), 400, 'invalid_target'],
    ['malformed JSON', post(token, '{"grant_type":', {...auth, 'Content-Type': 'application/json'}), 400, 'invalid_request'],
    ['JSON array', post(token, '["grant_type"]', {...auth, 'Content-Type': 'application/json'}), 400, 'invalid_request'],
    ['wrong content type', post(token, cc, {...auth, 'Content-Type': 'text/plain'}), 400, 'invalid_request'],
    ['invalid UTF-8', fetch(token, {method: 'POST', headers: {...auth, 'Content-Type': form}, body: Buffer.from([0x67, 0xff, 0xfe])}).then(async (r) => ({status: r.status, headers: r.headers, body: (await r.json()) as Record<string, string>})), 400, 'invalid_request'],
    ['oversized body', post(token, `${cc}&pad=${'x'.repeat(70 * 1024)}`, auth), 413, 'invalid_request'],
    ['no client authentication', post(token, cc), 401, 'invalid_client'],
    ['unknown client', post(token, cc, {Authorization: basic('gtc_nobody', agent.client_secret)}), 401, 'invalid_client'],
    ['wrong secret', post(token, cc, {Authorization: basic(agent.client_id, 'gts_wrong')}), 401, 'invalid_client'],
    ['malformed Basic', post(token, cc, {Authorization: 'Basic !!!not-base64'}), 401, 'invalid_client'],
    ['scope the client may not have', post(token, `${cc}&scope=admin`, auth), 400, 'invalid_scope'],
    ['malformed scope', post(token, `${cc}&scope=%22quoted%22`, auth), 400, 'invalid_scope'],
    ['resource not served here', post(token, `${cc}&resource=https://elsewhere.example/mcp`, auth), 400, 'invalid_target'],
    ['resource with fragment', post(token, `${cc}&resource=${encodeURIComponent(`${s.issuer}/mcp#x`)}`, auth), 400, 'invalid_target'],
    ['grant the client may not use', post(token, cc, {Authorization: basic(codeOnly.client_id, codeOnly.client_secret)}), 400, 'unauthorized_client'],
  ]
  for (const [name, pending, status, error] of cases) {
    const r = await pending
    assert.equal(r.status, status, `${name}: ${JSON.stringify(r.body)}`)
    assert.equal(r.body.error, error, name)
    assert.equal(typeof r.body.error_description, 'string', name)
    assert.equal(r.headers.get('cache-control'), 'no-store', name)
    assert.equal(r.body.access_token, undefined, name)
  }
  // Unknown client and wrong secret are indistinguishable, and Basic attempts get a Basic challenge.
  const unknown = await post(token, cc, {Authorization: basic('gtc_nobody', 'x')})
  const wrong = await post(token, cc, {Authorization: basic(agent.client_id, 'x')})
  assert.deepEqual(unknown.body, wrong.body)
  assert.match(wrong.headers.get('www-authenticate') ?? '', /^Basic realm=/)
  // JSON bodies are accepted, as CONTRACT.md says.
  const json = await post(token, JSON.stringify({grant_type: 'client_credentials', scope: 'read'}), {...auth, 'Content-Type': 'application/json'})
  assert.equal(json.status, 200)
  assert.equal(json.body.scope, 'read')
  // The daemon is still serving after all that.
  assert.ok(await fetchToken(s.issuer, agent))
})

test('a revoked client gets the same invalid_client as an unknown one', async (t) => {
  const s = await startInProcess(t)
  const agent = await s.client({name: 'gone'})
  await fetchToken(s.issuer, agent)
  await s.admin.revoke(agent.client_id, {by: 'test'})
  const r = await post(`${s.issuer}/oauth/token`, 'grant_type=client_credentials', {Authorization: basic(agent.client_id, agent.client_secret)})
  assert.equal(r.status, 401)
  assert.equal(r.body.error, 'invalid_client')
  assert.equal(r.body.error_description, 'client authentication failed')
})

test('private_key_jwt: bad signatures, wrong audience, long-lived and replayed assertions are refused', async (t) => {
  const s = await startInProcess(t)
  const {publicKey, privateKey} = await generateKeyPair('ES256', {extractable: true})
  const other = await generateKeyPair('ES256')
  const {client} = await s.admin.generate({name: 'signer', authMethod: 'private_key_jwt', jwks: {keys: [await exportJWK(publicKey)]}})
  const tokenUrl = `${s.issuer}/oauth/token`
  const now = Math.floor(s.clock.now() / 1000)
  const assertion = (claims: Record<string, unknown>, key = privateKey) =>
    new SignJWT({iss: client.id, sub: client.id, aud: tokenUrl, jti: crypto.randomUUID(), iat: now, exp: now + 60, ...claims})
      .setProtectedHeader({alg: 'ES256'})
      .sign(key)
  const send = async (a: string) =>
    post(tokenUrl, new URLSearchParams({grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: a}).toString())

  const good = await assertion({})
  assert.equal((await send(good)).status, 200)
  const replay = await send(good)
  assert.equal(replay.status, 401)
  assert.match(replay.body.error_description!, /already used/)
  for (const [name, a] of [
    ['foreign key', await assertion({}, other.privateKey)],
    ['wrong audience', await assertion({aud: 'https://elsewhere.example/token'})],
    ['expired', await assertion({iat: now - 700, exp: now - 600})],
    ['lives too long', await assertion({exp: now + 3600})],
    ['iss differs from sub', await assertion({sub: 'gtc_someone_else'})],
    ['no jti', await new SignJWT({iss: client.id, sub: client.id, aud: tokenUrl, iat: now, exp: now + 60}).setProtectedHeader({alg: 'ES256'}).sign(privateKey)],
    ['alg none', `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({iss: client.id, sub: client.id, aud: tokenUrl, jti: 'x', exp: now + 60})).toString('base64url')}.`],
    ['garbage', 'not.a.jwt'],
  ] as const) {
    const r = await send(a)
    assert.equal(r.status, 401, `${name}: ${JSON.stringify(r.body)}`)
    assert.equal(r.body.error, 'invalid_client', name)
  }
})

async function forge(header: Record<string, unknown>, payload: Record<string, unknown>, key?: import('node:crypto').webcrypto.CryptoKey): Promise<string> {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
  if (!key) return `${enc(header)}.${enc(payload)}.`
  return new SignJWT(payload).setProtectedHeader(header as {alg: string}).sign(key)
}

test('tokens that are not ours, not for us, or not valid any more are refused', async (t) => {
  const s = await startInProcess(t)
  const agent = await s.client({name: 'holder'})
  const real = await fetchToken(s.issuer, agent)
  const claims = decodeJwt(real)
  const header = decodeProtectedHeader(real)
  const foreign = await generateKeyPair('ES256')
  const info = (token: string) => fetch(`${s.issuer}/oauth/info`, {headers: {Authorization: `Bearer ${token}`}})
  const cases: Array<[string, string]> = [
    ['alg none', await forge({alg: 'none', typ: 'at+jwt', kid: header.kid}, claims)],
    ['foreign key, our kid', await forge({alg: 'ES256', typ: 'at+jwt', kid: header.kid}, claims, foreign.privateKey)],
    ['foreign key, unknown kid', await forge({alg: 'ES256', typ: 'at+jwt', kid: 'attacker'}, claims, foreign.privateKey)],
    ['HS256 with the public key as secret', await forge({alg: 'HS256', typ: 'at+jwt', kid: header.kid}, claims, (await crypto.subtle.generateKey({name: 'HMAC', hash: 'SHA-256'}, true, ['sign'])) as import('node:crypto').webcrypto.CryptoKey)],
    ['tampered payload', `${real.split('.')[0]}.${Buffer.from(JSON.stringify({...claims, scope: 'admin'})).toString('base64url')}.${real.split('.')[2]}`],
    ['garbage', 'abc.def.ghi'],
  ]
  for (const [name, token] of cases) {
    const r = await info(token)
    assert.equal(r.status, 401, name)
    assert.match(r.headers.get('www-authenticate') ?? '', /error="invalid_token"/, name)
  }
  assert.equal((await info(real)).status, 200)
  // Expiry, on the server's own clock.
  s.clock.advance(3601 * 1000)
  const expired = await info(real)
  assert.equal(expired.status, 401)
  assert.match(((await expired.json()) as {error_description: string}).error_description, /expired/)
})

test('wrong issuer, audience or typ: refused even when signed with our key', async (t) => {
  // Tokens signed by the server's own key but with a wrong claim can only be made in-process,
  // through the same signing code with other parameters.
  const s = await startInProcess(t)
  const agent = await s.client({name: 'claims'})
  const {loadKeyring} = await import('../../src/oauth/keys/keyring.js')
  const {createFileVault} = await import('../../src/secrets/file-vault.js')
  const keyring = await loadKeyring({store: s.store, vaults: {file: createFileVault(s.dataDir)}, clock: s.clock})
  const {kid, key} = keyring.signer()
  const now = Math.floor(s.clock.now() / 1000)
  const base = {iss: s.issuer, sub: agent.client_id, aud: `${s.issuer}/mcp`, client_id: agent.client_id, scope: 'mcp', iat: now, exp: now + 600, jti: 'j1'}
  const sign = (payload: Record<string, unknown>, typ = 'at+jwt') => new SignJWT(payload).setProtectedHeader({alg: 'ES256', kid, typ}).sign(key)
  const info = (token: string) => fetch(`${s.issuer}/oauth/info`, {headers: {Authorization: `Bearer ${token}`}})
  assert.equal((await info(await sign(base))).status, 200, 'control: the right claims pass')
  for (const [name, token] of [
    ['wrong issuer', await sign({...base, iss: 'https://evil.example'})],
    ['wrong audience', await sign({...base, aud: 'https://other.example/mcp'})],
    ['wrong typ (an ID token)', await sign(base, 'JWT')],
    ['no exp', await sign({...base, exp: undefined})],
    ['not yet valid', await sign({...base, iat: now + 3600, nbf: now + 3600})],
  ] as const) {
    assert.equal((await info(token)).status, 401, name)
  }
})

test('failed authentication is rate-limited per client and per address, without locking out good clients', async (t) => {
  const s = await startInProcess(t, {authFailures: {perClient: {burst: 3, perMinute: 3}, perAddress: {burst: 5, perMinute: 5}}})
  const victim = await s.client({name: 'victim'})
  const bystander = await s.client({name: 'bystander'})
  await fetchToken(s.issuer, bystander) // has authenticated from this address before
  const tokenUrl = `${s.issuer}/oauth/token`
  const attempt = (id: string, secret: string) => post(tokenUrl, 'grant_type=client_credentials', {Authorization: basic(id, secret)})

  for (let i = 0; i < 3; i++) assert.equal((await attempt(victim.client_id, 'gts_guess')).status, 401)
  const limited = await attempt(victim.client_id, 'gts_guess')
  assert.equal(limited.status, 429)
  assert.ok(Number(limited.headers.get('retry-after')) >= 1)
  // Even the right secret waits while the client's budget is spent.
  assert.equal((await attempt(victim.client_id, victim.client_secret)).status, 429)

  // The address budget: unknown clients from 127.0.0.1 are cut off ...
  assert.equal((await attempt('gtc_x1', 'a')).status, 401)
  assert.equal((await attempt('gtc_x2', 'a')).status, 401)
  assert.equal((await attempt('gtc_x3', 'a')).status, 429)
  // ... while a client that authenticates correctly from the same address keeps working.
  assert.ok(await fetchToken(s.issuer, bystander))

  // Budgets refill with time (the server's clock).
  s.clock.advance(60_000)
  assert.ok(await fetchToken(s.issuer, victim))
})
