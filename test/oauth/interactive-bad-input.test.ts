import assert from 'node:assert/strict'
import {test} from 'node:test'
import {codeVerifierMatches} from '../../src/oauth/authorize/pkce.js'
import {authorize, codeFor, pkce, register, token} from '../helpers/interactive.js'
import {startInProcess} from '../helpers/server.js'

const WEB = 'https://app.example/cb'
const NATIVE = 'http://localhost/callback'

async function setup(t: Parameters<typeof startInProcess>[0], interactive = {}) {
  const s = await startInProcess(t, {interactive: {autoApprove: true, ...interactive}})
  const reg = await register(s.issuer, {client_name: 'Claude Code', redirect_uris: [WEB, NATIVE], token_endpoint_auth_method: 'none'})
  assert.equal(reg.status, 201)
  return {s, clientId: String(reg.body.client_id)}
}

test('redirect URI tricks get an error page and never a redirect (RFC 9700 §4.1, exact matching; RFC 8252 §7.3 loopback port)', async (t) => {
  const {s, clientId} = await setup(t)
  const {challenge} = pkce()
  const base = {response_type: 'code', client_id: clientId, code_challenge: challenge, code_challenge_method: 'S256', state: 'xyz'}
  for (const uri of [
    'https://app.example/cb/extra', // suffix path
    'https://app.example/cbx', // suffix
    'https://app.example/c', // prefix
    'https://app.example/other', // path
    'https://app.example/cb?x=1', // query
    'https://app.example/cb#frag', // fragment
    'https://APP.example/cb', // case
    'HTTPS://app.example/cb', // scheme case
    'https://app.example/CB', // path case
    'https://app.example@evil.example/cb', // userinfo
    'https://evil.example@app.example/cb', // userinfo
    'https://app.example/%63b', // encoded character
    'https://app.example:443/cb', // explicit port
    'http://app.example/cb', // other scheme
    'javascript:alert(1)//app.example/cb',
    'data:text/html,app.example/cb',
    'http://localhost:8080@evil.example/callback', // loopback with userinfo trick
    'http://localhost.evil.example/callback', // loopback prefix
    'http://127.0.0.1:4567/callback', // another loopback host than registered
    'http://localhost:4567/callback/', // loopback, other path
    'http://localhost:99999/callback', // not a port
    'https://localhost:4567/callback', // port freedom is for http loopback only
  ]) {
    const r = await authorize(s.issuer, {...base, redirect_uri: uri})
    assert.equal(r.status, 400, uri)
    assert.equal(r.location, undefined, `${uri} must not redirect`)
    assert.match(r.headers.get('content-type')!, /text\/html/)
    assert.match(r.text, /Invalid redirect URI/)
  }
  for (const [name, params] of [
    ['unknown client', {...base, client_id: 'gtc_nobody', redirect_uri: WEB}],
    ['missing client', {...base, client_id: '', redirect_uri: WEB}],
  ] as const) {
    const r = await authorize(s.issuer, params)
    assert.equal(r.status, 400, name)
    assert.equal(r.location, undefined, name)
  }
  // Control: the registered URIs, and the loopback one on any port.
  assert.equal((await authorize(s.issuer, {...base, redirect_uri: WEB})).status, 302)
  const native = await authorize(s.issuer, {...base, redirect_uri: 'http://localhost:4567/callback'})
  assert.equal(native.status, 302)
  assert.equal(native.location!.origin, 'http://localhost:4567')
  // A revoked client is unknown.
  await s.admin.revoke(clientId, {by: 'test'})
  assert.equal((await authorize(s.issuer, {...base, redirect_uri: WEB})).status, 400)
})

test('other bad authorization requests go back to the client with error, state and iss (RFC 6749 §4.1.2.1, RFC 9207)', async (t) => {
  const {s, clientId} = await setup(t)
  const {challenge} = pkce()
  const base = {response_type: 'code', client_id: clientId, redirect_uri: WEB, code_challenge: challenge, code_challenge_method: 'S256', state: 'st'}
  const {code_challenge_method: _m, ...noMethod} = base
  const {code_challenge: _c, ...noChallenge} = base
  for (const [name, params, error] of [
    ['implicit flow', {...base, response_type: 'token'}, 'unsupported_response_type'],
    ['no response_type', {...base, response_type: ''}, 'unsupported_response_type'],
    ['no PKCE (RFC 9700 §2.1.1)', noChallenge, 'invalid_request'],
    ['PKCE method missing (would default to plain)', noMethod, 'invalid_request'],
    ['PKCE plain (downgrade)', {...base, code_challenge_method: 'plain'}, 'invalid_request'],
    ['malformed challenge', {...base, code_challenge: 'short'}, 'invalid_request'],
    ['scope not offered', {...base, scope: 'mcp admin'}, 'invalid_scope'],
    ['other resource (RFC 8707)', {...base, resource: 'https://elsewhere.example/mcp'}, 'invalid_target'],
  ] as const) {
    const r = await authorize(s.issuer, params as Record<string, string>)
    assert.equal(r.status, 302, name)
    assert.equal(r.location!.origin + r.location!.pathname, WEB, name)
    assert.equal(r.location!.searchParams.get('error'), error, name)
    assert.equal(r.location!.searchParams.get('state'), 'st', name)
    assert.equal(r.location!.searchParams.get('iss'), s.issuer, name)
    assert.equal(r.location!.searchParams.get('code'), null, name)
  }
})

test('code exchange: wrong verifier, PKCE downgrade, other redirect, other client, replay and racing redemptions', async (t) => {
  const {s, clientId} = await setup(t)
  const other = String((await register(s.issuer, {client_name: 'Other', redirect_uris: [WEB], token_endpoint_auth_method: 'none'})).body.client_id)
  const {code, verifier} = await codeFor(s.issuer, clientId, WEB)
  const base = {grant_type: 'authorization_code', code, client_id: clientId, redirect_uri: WEB, code_verifier: verifier}
  for (const [name, params, error] of [
    ['wrong verifier', {...base, code_verifier: pkce().verifier}, 'invalid_grant'],
    ['the challenge as verifier', {...base, code_verifier: 'x'.repeat(43)}, 'invalid_grant'],
    ['no verifier', {...base, code_verifier: undefined}, 'invalid_request'],
    ['other redirect_uri', {...base, redirect_uri: 'http://localhost:1/callback'}, 'invalid_grant'],
    ['no redirect_uri', {...base, redirect_uri: undefined}, 'invalid_grant'],
    ["another client's code", {...base, client_id: other}, 'invalid_grant'],
    ['unknown code', {...base, code: 'gtac_nothing'}, 'invalid_grant'],
    ['other resource', {...base, resource: 'https://elsewhere.example/mcp'}, 'invalid_target'],
  ] as const) {
    const sent = Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined)) as Record<string, string>
    const r = await token(s.issuer, sent)
    assert.equal(r.status, 400, name)
    assert.equal(r.body.error, error, name)
    assert.equal(r.body.access_token, undefined, name)
  }
  // Failed attempts did not consume the code; the right request succeeds, bound to the resource.
  const ok = await token(s.issuer, {...base, resource: `${s.issuer}/mcp`})
  assert.equal(ok.status, 200)
  assert.equal(ok.headers.get('cache-control'), 'no-store')
  const info = (tok: string) => fetch(`${s.issuer}/oauth/info`, {headers: {Authorization: `Bearer ${tok}`}}).then((r) => r.status)
  assert.equal(await info(ok.body.access_token!), 200)
  // Replay: refused, and what the code produced is revoked (OAuth 2.1 §4.1.3).
  assert.equal((await token(s.issuer, base)).body.error, 'invalid_grant')
  assert.equal(await info(ok.body.access_token!), 401)
  assert.equal((await token(s.issuer, {grant_type: 'refresh_token', refresh_token: ok.body.refresh_token!, client_id: clientId})).status, 400)

  // Two redemptions racing: exactly one wins (BEGIN IMMEDIATE).
  const race = await codeFor(s.issuer, clientId, WEB)
  const results = await Promise.all([1, 2, 3].map(() => token(s.issuer, {...base, code: race.code, code_verifier: race.verifier})))
  assert.equal(results.filter((r) => r.status === 200).length, 1)
  // Codes expire after 10 minutes.
  const late = await codeFor(s.issuer, clientId, WEB)
  s.clock.advance(10 * 60_000 + 1)
  assert.equal((await token(s.issuer, {...base, code: late.code, code_verifier: late.verifier})).body.error, 'invalid_grant')
})

test('PKCE: a verifier with no stored challenge is refused (RFC 9700 §2.1.1 downgrade)', () => {
  const {verifier, challenge} = pkce()
  assert.equal(codeVerifierMatches(challenge, verifier), true)
  assert.equal(codeVerifierMatches(null, verifier), false)
  assert.equal(codeVerifierMatches(challenge, undefined), false)
  assert.equal(codeVerifierMatches(challenge, verifier.slice(0, 42)), false)
})

test('refresh: rotation, wider scope, other client, racing refreshes, replay after the grace period revokes the family (RFC 9700 §4.14.2)', async (t) => {
  const {s, clientId} = await setup(t, {refreshGraceMs: 60_000})
  const other = String((await register(s.issuer, {client_name: 'Other', redirect_uris: [WEB], token_endpoint_auth_method: 'none'})).body.client_id)
  const {code, verifier} = await codeFor(s.issuer, clientId, WEB)
  const first = (await token(s.issuer, {grant_type: 'authorization_code', code, client_id: clientId, redirect_uri: WEB, code_verifier: verifier})).body
  const refresh = (rt: string, extra: Record<string, string> = {}) => token(s.issuer, {grant_type: 'refresh_token', refresh_token: rt, client_id: clientId, ...extra})
  assert.equal((await refresh(first.refresh_token!, {scope: 'mcp admin'})).body.error, 'invalid_scope')
  assert.equal((await token(s.issuer, {grant_type: 'refresh_token', refresh_token: first.refresh_token!, client_id: other})).body.error, 'invalid_grant')
  assert.equal((await refresh(first.refresh_token!, {resource: 'https://elsewhere.example/mcp'})).body.error, 'invalid_target')

  // Racing refreshes of one token: serialised; afterwards exactly one refresh token of the family lives.
  const raced = await Promise.all([refresh(first.refresh_token!), refresh(first.refresh_token!)])
  assert.ok(raced.every((r) => r.status === 200), 'the second is the grace-period retry')
  const alive = await Promise.all(raced.map((r) => refresh(r.body.refresh_token!)))
  assert.deepEqual(alive.map((r) => r.status).sort(), [200, 400])
  const current = alive.find((r) => r.status === 200)!.body

  // Replay after the grace period: refused and the whole family is revoked.
  s.clock.advance(61_000)
  const replay = await refresh(first.refresh_token!)
  assert.equal(replay.body.error, 'invalid_grant')
  assert.equal((await refresh(current.refresh_token!)).body.error, 'invalid_grant')
  const info = await fetch(`${s.issuer}/oauth/info`, {headers: {Authorization: `Bearer ${current.access_token}`}})
  assert.equal(info.status, 401)
})

test('registration: hostile or oversized metadata is refused with the RFC 7591 errors, and registration is rate-limited', async (t) => {
  const s = await startInProcess(t, {interactive: {registrationLimit: {burst: 25, perMinute: 1}}})
  const ok = await register(s.issuer, {client_name: 'Cursor', redirect_uris: ['cursor://anysphere.cursor-retrieval/oauth/user-oauth-callback'], token_endpoint_auth_method: 'none'})
  assert.equal(ok.status, 201)
  assert.equal(ok.headers.get('cache-control'), 'no-store')
  assert.deepEqual(ok.body.redirect_uris, ['cursor://anysphere.cursor-retrieval/oauth/user-oauth-callback'])
  assert.equal(ok.body.token_endpoint_auth_method, 'none')
  assert.equal(ok.body.client_secret, undefined)
  const confidential = await register(s.issuer, {client_name: 'VS Code', redirect_uris: ['http://127.0.0.1:33418', 'https://vscode.dev/redirect'], token_endpoint_auth_method: 'client_secret_post'})
  assert.equal(confidential.status, 201)
  assert.match(String(confidential.body.client_secret), /^gts_/)
  for (const [name, meta, error] of [
    ['javascript:', {redirect_uris: ['javascript:alert(1)']}, 'invalid_redirect_uri'],
    ['data:', {redirect_uris: ['data:text/html,hi']}, 'invalid_redirect_uri'],
    ['fragment', {redirect_uris: ['https://app.example/cb#x']}, 'invalid_redirect_uri'],
    ['http to a public host', {redirect_uris: ['http://app.example/cb']}, 'invalid_redirect_uri'],
    ['userinfo', {redirect_uris: ['https://user:pw@app.example/cb']}, 'invalid_redirect_uri'],
    ['file:', {redirect_uris: ['file:///etc/passwd']}, 'invalid_redirect_uri'],
    ['no redirect URIs', {client_name: 'x'}, 'invalid_redirect_uri'],
    ['redirect URIs not a list', {redirect_uris: 'https://app.example/cb'}, 'invalid_redirect_uri'],
    ['too many redirect URIs', {redirect_uris: Array.from({length: 21}, (_, i) => `https://app.example/${i}`)}, 'invalid_redirect_uri'],
    ['client_credentials', {redirect_uris: [WEB], grant_types: ['client_credentials']}, 'invalid_client_metadata'],
    ['implicit', {redirect_uris: [WEB], response_types: ['token']}, 'invalid_client_metadata'],
    ['private_key_jwt', {redirect_uris: [WEB], token_endpoint_auth_method: 'private_key_jwt'}, 'invalid_client_metadata'],
    ['jwks_uri', {redirect_uris: [WEB], jwks_uri: 'https://app.example/jwks'}, 'invalid_client_metadata'],
    ['unknown scope', {redirect_uris: [WEB], scope: 'mcp admin'}, 'invalid_client_metadata'],
    ['control characters in the name', {redirect_uris: [WEB], client_name: 'evil\u0000name'}, 'invalid_client_metadata'],
    ['huge name', {redirect_uris: [WEB], client_name: 'x'.repeat(5000)}, 'invalid_client_metadata'],
    ['logo over http', {redirect_uris: [WEB], logo_uri: 'http://app.example/logo.png'}, 'invalid_client_metadata'],
  ] as const) {
    const r = await register(s.issuer, meta)
    assert.equal(r.status, 400, `${name}: ${JSON.stringify(r.body)}`)
    assert.equal(r.body.error, error, name)
    assert.equal(r.body.client_id, undefined, name)
  }
  const big = await fetch(`${s.issuer}/oauth/register`, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify({redirect_uris: [WEB], pad: 'x'.repeat(20_000)})})
  assert.equal(big.status, 413)
  const notJson = await fetch(`${s.issuer}/oauth/register`, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{"redirect_uris":'})
  assert.equal(((await notJson.json()) as {error: string}).error, 'invalid_client_metadata')
  // Nothing of the refused ones was stored; clients may share names.
  const twin = await register(s.issuer, {client_name: 'Cursor', redirect_uris: [WEB]})
  assert.equal(twin.status, 201)
  const active = (await s.store.clients.list({includeRevoked: false})).filter((c) => c.registration === 'dynamic')
  assert.equal(active.length, 3)
  // The per-address budget runs out.
  let last = 201
  for (let i = 0; i < 10 && last !== 429; i++) last = (await register(s.issuer, {redirect_uris: [WEB]})).status
  assert.equal(last, 429)
})

test('registration can be switched off; the metadata lists what interactive clients need', async (t) => {
  const on = await startInProcess(t)
  const meta = (await (await fetch(`${on.issuer}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>
  assert.equal(meta.authorization_endpoint, `${on.issuer}/oauth/authorize`)
  assert.equal(meta.registration_endpoint, `${on.issuer}/oauth/register`)
  assert.deepEqual(meta.code_challenge_methods_supported, ['S256'])
  assert.deepEqual(meta.response_types_supported, ['code'])
  assert.ok((meta.token_endpoint_auth_methods_supported as string[]).includes('none'))
  assert.ok((meta.grant_types_supported as string[]).includes('authorization_code'))
  assert.ok((meta.grant_types_supported as string[]).includes('refresh_token'))
  assert.equal(meta.authorization_response_iss_parameter_supported, true)
  assert.equal(meta.client_id_metadata_document_supported, true)
  // Root fallbacks for clients that ignore the metadata.
  assert.equal((await fetch(`${on.issuer}/register`, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify({redirect_uris: [WEB]})})).status, 201)
  assert.equal((await fetch(`${on.issuer}/authorize`)).status, 400)
  assert.equal((await fetch(`${on.issuer}/token`, {method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: 'grant_type=x'})).status, 400)

  const off = await startInProcess(t, {interactive: {registration: false, metadataDocuments: false}})
  const offMeta = (await (await fetch(`${off.issuer}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>
  assert.equal(offMeta.registration_endpoint, undefined)
  assert.equal(offMeta.client_id_metadata_document_supported, undefined)
  assert.equal((await register(off.issuer, {redirect_uris: [WEB]})).status, 404)
})

test('--auto-approve refuses a public issuer', async (t) => {
  const {createServer} = await import('../../src/server.js')
  const {tempDir} = await import('../helpers/tmp.js')
  await assert.rejects(
    createServer({dataDir: tempDir(t), port: 0, issuer: 'https://mcp.example.com', useKeychain: false, interactive: {autoApprove: true}}),
    /auto-approve is for loopback-only development/,
  )
})

test('unused registered clients expire', async (t) => {
  const s = await startInProcess(t)
  const reg = await register(s.issuer, {redirect_uris: [WEB]})
  s.clock.advance(25 * 3600_000)
  const expired = await s.store.registeredClients.expireUnused({neverUsedBefore: s.clock.now() - 24 * 3600_000, idleBefore: s.clock.now() - 90 * 86_400_000, at: s.clock.now()})
  assert.deepEqual(expired, [reg.body.client_id])
  assert.ok((await s.store.clients.findById(String(reg.body.client_id)))!.revokedAt !== null)
})
