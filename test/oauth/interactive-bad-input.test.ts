import assert from 'node:assert/strict'
import {test} from 'node:test'
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

test('other bad authorization requests go back to the client with error, state and iss (RFC 6749 §4.1.2.1, RFC 9207; PKCE: test/security/pkce.test.ts)', async (t) => {
  const {s, clientId} = await setup(t)
  const {challenge} = pkce()
  const base = {response_type: 'code', client_id: clientId, redirect_uri: WEB, code_challenge: challenge, code_challenge_method: 'S256', state: 'st'}
  for (const [name, params, error] of [
    ['implicit flow', {...base, response_type: 'token'}, 'unsupported_response_type'],
    ['no response_type', {...base, response_type: ''}, 'unsupported_response_type'],
    ['malformed scope (scopes not offered are dropped: test/security/registration-leniency.test.ts)', {...base, scope: 'mcp "admin"'}, 'invalid_scope'],
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

test('code exchange: another resource is refused; the right request succeeds, bound to the resource (attacks: test/security/)', async (t) => {
  const {s, clientId} = await setup(t)
  const {code, verifier} = await codeFor(s.issuer, clientId, WEB)
  const base = {grant_type: 'authorization_code', code, client_id: clientId, redirect_uri: WEB, code_verifier: verifier}
  const bad = await token(s.issuer, {...base, resource: 'https://elsewhere.example/mcp'})
  assert.equal(bad.status, 400)
  assert.equal(bad.body.error, 'invalid_target')
  const ok = await token(s.issuer, {...base, resource: `${s.issuer}/mcp`})
  assert.equal(ok.status, 200)
  assert.equal(ok.headers.get('cache-control'), 'no-store')
  const info = await fetch(`${s.issuer}/oauth/info`, {headers: {Authorization: `Bearer ${ok.body.access_token}`}})
  assert.equal(info.status, 200)
  // A refresh rotates the refresh token.
  const refreshed = await token(s.issuer, {grant_type: 'refresh_token', refresh_token: ok.body.refresh_token!, client_id: clientId})
  assert.equal(refreshed.status, 200)
  assert.notEqual(refreshed.body.refresh_token, ok.body.refresh_token)
})

test('registration: public and confidential clients register, names may repeat, and registration is rate-limited (RFC 7591 §3)', async (t) => {
  const s = await startInProcess(t, {interactive: {registrationLimit: {burst: 5, perMinute: 1}}})
  const ok = await register(s.issuer, {client_name: 'Cursor', redirect_uris: ['cursor://anysphere.cursor-retrieval/oauth/user-oauth-callback'], token_endpoint_auth_method: 'none'})
  assert.equal(ok.status, 201)
  assert.equal(ok.headers.get('cache-control'), 'no-store')
  assert.deepEqual(ok.body.redirect_uris, ['cursor://anysphere.cursor-retrieval/oauth/user-oauth-callback'])
  assert.equal(ok.body.token_endpoint_auth_method, 'none')
  assert.equal(ok.body.client_secret, undefined)
  const confidential = await register(s.issuer, {client_name: 'VS Code', redirect_uris: ['http://127.0.0.1:33418', 'https://vscode.dev/redirect'], token_endpoint_auth_method: 'client_secret_post'})
  assert.equal(confidential.status, 201)
  assert.match(String(confidential.body.client_secret), /^gts_/)
  // Hostile and oversized metadata: test/security/registration-ssrf.test.ts.
  // Clients may share names.
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
