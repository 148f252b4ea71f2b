// Session fixation and cross-client session use. Rules: MCP security best practices §Session
// Hijacking (session ids are not authentication, are bound to the client, are never chosen by
// the client), MCP transports §Session Management (unknown or foreign session: 404; the server
// assigns the id at initialize), OWASP session fixation (a login gets a new session id).
import {cliActor} from '../../src/audit/actor.js'
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {createOwnerAdmin} from '../../src/owner/owner-admin.js'
import {assertStillServes, interactiveServer, WEB} from '../helpers/attacks.js'
import {startHarness, type Harness} from '../helpers/gateway.ts'
import {authorize, pkce} from '../helpers/interactive.js'

const ACCEPT = 'application/json, text/event-stream'
const init = {jsonrpc: '2.0', id: 1, method: 'initialize', params: {protocolVersion: '2025-11-25', capabilities: {}, clientInfo: {name: 'raw', version: '1'}}}
const post = (h: Harness, body: unknown, headers: Record<string, string>) =>
  fetch(h.url, {method: 'POST', headers: {'content-type': 'application/json', accept: ACCEPT, ...headers}, body: JSON.stringify(body)})

async function open(h: Harness, clientId: string) {
  const authorization = `Bearer ${await h.token(clientId)}`
  const res = await post(h, init, {authorization})
  assert.equal(res.status, 200)
  await res.text()
  const headers = {authorization, 'mcp-session-id': res.headers.get('mcp-session-id')!, 'mcp-protocol-version': '2025-11-25'}
  await post(h, {jsonrpc: '2.0', method: 'notifications/initialized'}, headers)
  return headers
}

test('Mcp-Session-Id fixation: an id chosen by the client is refused at initialize and never becomes a session (MCP security best practices §Session Hijacking)', async (t) => {
  const h = await startHarness(t)
  const authorization = `Bearer ${await h.token('alice')}`
  const chosen = 'attacker-chosen-session-id-0123456789abcdefghijklmnop'
  const res = await post(h, init, {authorization, 'mcp-session-id': chosen})
  assert.equal(res.status, 400)
  assert.equal(res.headers.get('mcp-session-id'), null)
  assert.equal((await post(h, {jsonrpc: '2.0', id: 2, method: 'ping'}, {authorization, 'mcp-session-id': chosen})).status, 404)
  // A fresh initialize gets a server-made id, not the one asked for.
  const fresh = await open(h, 'alice')
  assert.notEqual(fresh['mcp-session-id'], chosen)
})

test('cross-client session use: another client presenting a live session id gets 404 on POST, GET and DELETE (MCP transports §Session Management; security best practices §Session Hijacking)', async (t) => {
  const h = await startHarness(t)
  const a = await open(h, 'alice')
  const mallory = `Bearer ${await h.token('mallory')}`
  assert.equal((await post(h, {jsonrpc: '2.0', id: 2, method: 'tools/list'}, {...a, authorization: mallory})).status, 404)
  assert.equal((await fetch(h.url, {headers: {...a, authorization: mallory, accept: 'text/event-stream'}})).status, 404)
  assert.equal((await fetch(h.url, {method: 'DELETE', headers: {...a, authorization: mallory}})).status, 404)
  // The session is untouched for its owner.
  assert.equal((await post(h, {jsonrpc: '2.0', id: 3, method: 'ping'}, a)).status, 200)
})

test('a session id is no authentication: without the bearer token it gets 401 (MCP security best practices §Session Hijacking)', async (t) => {
  const h = await startHarness(t)
  const a = await open(h, 'alice')
  const {authorization: _, ...noToken} = a
  assert.equal((await post(h, {jsonrpc: '2.0', id: 2, method: 'ping'}, noToken)).status, 401)
})

test('browser session fixation: a cookie the attacker made up is not adopted, and a planted pre-login session does not carry the login (OWASP session fixation; RFC 6749 §10.12)', async (t) => {
  const {s, victim} = await interactiveServer(t, {interactive: {autoApprove: false}})
  await createOwnerAdmin({store: s.store, clock: s.clock}).setPassword('a long owner password', cliActor())
  const params = {response_type: 'code', client_id: victim, redirect_uri: WEB, code_challenge: pkce().challenge, code_challenge_method: 'S256', state: 'st'}
  // A made-up session id is ignored: the server issues its own.
  const madeUp = 'A'.repeat(43)
  const page0 = await authorize(s.issuer, params, {Cookie: `gatehouse-session=${madeUp}`})
  const issued = /gatehouse-session=([^;]+)/.exec(page0.headers.get('set-cookie') ?? '')?.[1]
  assert.ok(issued && issued !== madeUp, 'a new id, not the planted one')
  // The attacker plants a real anonymous session id (issued) in the victim's browser; the victim logs in.
  const field = (name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(page0.text)![1]!
  const login = await fetch(`${s.issuer}/oauth/authorize`, {
    method: 'POST',
    redirect: 'manual',
    headers: {'Content-Type': 'application/x-www-form-urlencoded', Cookie: `gatehouse-session=${issued}`, Origin: new URL(s.issuer).origin},
    body: new URLSearchParams({request_id: field('request_id'), csrf_token: field('csrf_token'), decision: 'approve', password: 'a long owner password'}),
  })
  assert.equal(login.status, 303)
  const after = /gatehouse-session=([^;]+)/.exec(login.headers.get('set-cookie') ?? '')?.[1]
  assert.ok(after && after !== issued, 'logging in replaced the session id')
  // The attacker's copy of the old id is not logged in: it gets the password form again.
  const attacker = await authorize(s.issuer, params, {Cookie: `gatehouse-session=${issued}`})
  assert.equal(attacker.status, 200)
  assert.match(attacker.text, /name="password"/)
  await assertStillServes(s.issuer)
})
