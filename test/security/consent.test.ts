// Confused deputy and header injection around consent. Rules: MCP security best practices
// §Confused Deputy Problem (consent is per client; nothing one client obtained serves another),
// RFC 6749 §4.1.3 and §10.5 (a code is bound to its client), RFC 9110 §5.5 (no CR/LF in header
// fields: reflected values cannot split the Location header). CSRF and framing of the consent
// page: test/oauth/consent-page.test.ts.
import {cliActor} from '../../src/audit/actor.js'
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {createOwnerAdmin} from '../../src/owner/owner-admin.js'
import {ATTACKER_URI, assertStillServes, interactiveServer, WEB} from '../helpers/attacks.js'
import {authorize, codeFor, pkce, token} from '../helpers/interactive.js'

test('confused deputy: a code bound to client A cannot be redeemed by client B (RFC 6749 §4.1.3)', async (t) => {
  const {s, victim, attacker} = await interactiveServer(t)
  const {code, verifier} = await codeFor(s.issuer, victim, WEB)
  const r = await token(s.issuer, {grant_type: 'authorization_code', code, client_id: attacker, redirect_uri: WEB, code_verifier: verifier})
  assert.equal(r.body.error, 'invalid_grant')
  assert.equal(r.body.access_token, undefined)
})

test('confused deputy: the owner\'s remembered consent for client A is not used for client B (MCP security best practices §Confused Deputy)', async (t) => {
  const {s, victim, attacker} = await interactiveServer(t, {interactive: {autoApprove: false}})
  await createOwnerAdmin({store: s.store, clock: s.clock}).setPassword('a long owner password', cliActor())
  const ask = (clientId: string, redirectUri: string, cookie?: string) =>
    authorize(s.issuer, {response_type: 'code', client_id: clientId, redirect_uri: redirectUri, code_challenge: pkce().challenge, code_challenge_method: 'S256', state: 'st'}, cookie ? {Cookie: cookie} : {})
  const page = await ask(victim, WEB)
  const cookie = page.headers.get('set-cookie')!.split(';')[0]!
  const field = (name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(page.text)![1]!
  const approved = await fetch(`${s.issuer}/oauth/authorize`, {
    method: 'POST',
    redirect: 'manual',
    headers: {'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookie, Origin: new URL(s.issuer).origin},
    body: new URLSearchParams({request_id: field('request_id'), csrf_token: field('csrf_token'), decision: 'approve', password: 'a long owner password'}),
  })
  assert.equal(approved.status, 303)
  const session = approved.headers.get('set-cookie')!.split(';')[0]!
  // Client A is now remembered: approved without a page.
  assert.equal((await ask(victim, WEB, session)).status, 302)
  // Client B, in the same logged-in browser, still gets the consent page, and no code.
  const b = await ask(attacker, ATTACKER_URI, session)
  assert.equal(b.status, 200)
  assert.match(b.text, /Attacker App/)
  assert.equal(b.location, undefined)
})

test('header injection: CR/LF in state is percent-encoded in Location, never a new header (RFC 9110 §5.5)', async (t) => {
  const {s, victim} = await interactiveServer(t)
  const r = await authorize(s.issuer, {response_type: 'code', client_id: victim, redirect_uri: WEB, code_challenge: pkce().challenge, code_challenge_method: 'S256', state: 'x\r\nSet-Cookie: pwned=1\r\n\r\n<script>'})
  assert.equal(r.status, 302)
  assert.equal(r.headers.get('set-cookie'), null)
  assert.equal(r.location!.searchParams.get('state'), 'x\r\nSet-Cookie: pwned=1\r\n\r\n<script>')
  await assertStillServes(s.issuer)
})

test('header injection: CR/LF or HTML in redirect_uri or client_id gets an escaped error page, no redirect (RFC 9110 §5.5; RFC 6749 §4.1.2.1)', async (t) => {
  const {s, victim} = await interactiveServer(t)
  const base = {response_type: 'code', code_challenge: pkce().challenge, code_challenge_method: 'S256'}
  for (const params of [{...base, client_id: victim, redirect_uri: `${WEB}\r\nLocation: https://evil.example`}, {...base, client_id: '<script>alert(1)</script>\r\nX: y', redirect_uri: WEB}]) {
    const r = await authorize(s.issuer, params)
    assert.equal(r.status, 400)
    assert.equal(r.location, undefined)
    assert.ok(!r.text.includes('<script>alert(1)'), 'escaped')
  }
  await assertStillServes(s.issuer)
})

test('header injection: a bearer token with quotes or CR/LF does not break WWW-Authenticate (RFC 6750 §3)', async (t) => {
  const {s} = await interactiveServer(t)
  const res = await fetch(`${s.issuer}/mcp`, {method: 'POST', headers: {Authorization: 'Bearer a"b, error="forged', 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream'}, body: '{}'})
  assert.equal(res.status, 401)
  const challenge = res.headers.get('www-authenticate')!
  assert.equal((challenge.match(/error="/g) ?? []).length, 1, challenge)
  assert.ok(!challenge.includes('forged'))
})
