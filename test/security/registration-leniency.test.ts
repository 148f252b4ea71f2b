// Registration and authorization as lenient as the rules allow, so real clients connect (issue
// 11, item 11). Rules: RFC 7591 §2 (every member but redirect_uris is optional) and §3.2.1 (the
// server "MAY reject or replace any of the client's requested metadata values" and returns what
// it registered); RFC 6749 §3.3 (the server "MAY fully or partially ignore the scope requested");
// MCP authorization 2025-11-25, "Scope Selection Strategy" (clients send scopes_supported or
// their own). Requested scopes this server does not offer are dropped; an offered scope the
// client may not have is still invalid_scope; a malformed scope token is still an error.
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {test, type TestContext} from 'node:test'
import {auth} from '@modelcontextprotocol/sdk/client/auth.js'
import {authorize, pkce, register, token} from '../helpers/interactive.js'
import {MemoryProvider} from '../helpers/oauth-client.js'
import {startInProcess} from '../helpers/server.js'
import {tempDir} from '../helpers/tmp.js'

const REDIRECT = 'http://127.0.0.1:40001/callback'
const OFFERED = ['mcp', 'memories:admin']

/** An auto-approving daemon whose policy offers `mcp` and `memories:admin`. */
async function server(t: TestContext) {
  const policyFile = join(tempDir(t), 'policy.json')
  writeFileSync(policyFile, JSON.stringify({tools: {'delete_*': 'memories:admin'}}))
  const s = await startInProcess(t, {policyFile, interactive: {autoApprove: true}})
  const meta = (await (await fetch(`${s.issuer}/.well-known/oauth-authorization-server`)).json()) as {scopes_supported: string[]}
  assert.deepEqual([...meta.scopes_supported].sort(), OFFERED)
  return s
}

/** The official SDK's whole flow (discovery, registration, PKCE, code, token) with `scope` as a client would pass it. */
async function sdkConnect(issuer: string, scope: string) {
  const provider = new MemoryProvider(REDIRECT, 'Claude')
  const serverUrl = `${issuer}/mcp`
  assert.equal(await auth(provider, {serverUrl, scope}), 'REDIRECT')
  const registered = provider.info as {client_id: string; scope: string}
  assert.equal(provider.authorizationUrl!.searchParams.get('scope'), scope, 'the SDK asks for what it was told')
  const answer = await fetch(provider.authorizationUrl!, {redirect: 'manual'})
  assert.equal(answer.status, 302)
  const back = new URL(answer.headers.get('location')!)
  assert.equal(back.searchParams.get('error'), null, back.searchParams.get('error_description') ?? '')
  assert.equal(await auth(provider, {serverUrl, scope, authorizationCode: back.searchParams.get('code')!}), 'AUTHORIZED')
  return {registered, tokens: provider.savedTokens!}
}

test('the MCP SDK registering and authorizing with "scope":"claudeai" (a scope of its own) connects with the default scopes (RFC 7591 §3.2.1, RFC 6749 §3.3)', async (t) => {
  const s = await server(t)
  const {registered, tokens} = await sdkConnect(s.issuer, 'claudeai')
  assert.deepEqual(registered.scope.split(' ').sort(), OFFERED, 'the registration response says what was granted: the default')
  assert.deepEqual(tokens.scope!.split(' ').sort(), OFFERED)
  const info = await fetch(`${s.issuer}/oauth/info`, {headers: {Authorization: `Bearer ${tokens.access_token}`}})
  assert.equal(info.status, 200)
})

test('the MCP SDK with "mcp offline_access" is granted the offered subset, "mcp", at registration and at the token endpoint', async (t) => {
  const s = await server(t)
  const {registered, tokens} = await sdkConnect(s.issuer, 'mcp offline_access')
  assert.equal(registered.scope, 'mcp')
  assert.equal(tokens.scope, 'mcp')
  assert.match(tokens.refresh_token!, /^gtrt_/)
})

test('JSON null is "absent" for every optional registration member, alike (RFC 7591 §2)', async (t) => {
  const s = await server(t)
  const optional = [
    'client_name', 'client_uri', 'logo_uri', 'tos_uri', 'policy_uri', 'contacts', 'software_id', 'software_version', 'software_statement',
    'scope', 'grant_types', 'response_types', 'token_endpoint_auth_method', 'jwks', 'jwks_uri',
  ]
  for (const key of optional) {
    const r = await register(s.issuer, {redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', [key]: null})
    assert.equal(r.status, 201, `${key}: null → ${JSON.stringify(r.body)}`)
    assert.ok(!(key in r.body) || r.body[key] !== null, `${key} is not echoed as null`)
  }
  const all = await register(s.issuer, {redirect_uris: [REDIRECT], ...Object.fromEntries(optional.map((k) => [k, null]))})
  assert.equal(all.status, 201, JSON.stringify(all.body))
  assert.equal(all.body.token_endpoint_auth_method, 'client_secret_basic', 'defaults apply')
  assert.deepEqual(String(all.body.scope).split(' ').sort(), OFFERED)
  // redirect_uris is required: null is as absent as it gets, and the error says so.
  const none = await register(s.issuer, {redirect_uris: null})
  assert.equal(none.status, 400)
  assert.equal(none.body.error, 'invalid_redirect_uri')
})

test('registration still refuses a scope that is not scope syntax at all, with a clear message, and registers nothing', async (t) => {
  const s = await server(t)
  const before = (await s.store.clients.list({includeRevoked: true})).length
  for (const scope of ['mcp "quoted"', 42, ['mcp'], 'x'.repeat(5000)]) {
    const r = await register(s.issuer, {redirect_uris: [REDIRECT], scope})
    assert.equal(r.status, 400, JSON.stringify(scope).slice(0, 40))
    assert.equal(r.body.error, 'invalid_client_metadata')
    assert.match(String(r.body.error_description), /scope/)
  }
  assert.equal((await s.store.clients.list({includeRevoked: true})).length, before)
})

test('at /oauth/authorize, unknown scopes are dropped but an offered scope the client may not have is invalid_scope (RFC 6749 §3.3, §4.1.2.1)', async (t) => {
  const s = await server(t)
  const reg = await register(s.issuer, {redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', scope: 'mcp'})
  assert.equal(reg.body.scope, 'mcp')
  const clientId = String(reg.body.client_id)
  const ask = async (scope: string) => {
    const p = pkce()
    const r = await authorize(s.issuer, {response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, code_challenge: p.challenge, code_challenge_method: 'S256', state: 'st', scope})
    assert.equal(r.status, 302)
    return {q: r.location!.searchParams, verifier: p.verifier}
  }
  for (const scope of ['mcp claudeai', 'offline_access mcp', 'claudeai', 'https://other.example/scope']) {
    const {q, verifier} = await ask(scope)
    assert.equal(q.get('error'), null, `${scope}: ${q.get('error_description')}`)
    const tok = await token(s.issuer, {grant_type: 'authorization_code', code: q.get('code')!, client_id: clientId, redirect_uri: REDIRECT, code_verifier: verifier})
    assert.equal(tok.body.scope, 'mcp', scope)
  }
  for (const scope of ['memories:admin', 'mcp memories:admin', 'claudeai memories:admin']) {
    const {q} = await ask(scope)
    assert.equal(q.get('error'), 'invalid_scope', scope)
    assert.equal(q.get('code'), null)
  }
  assert.equal((await ask('mcp "x"')).q.get('error'), 'invalid_scope', 'malformed is still an error')
})
