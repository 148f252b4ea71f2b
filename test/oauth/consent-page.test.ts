import {cliActor} from '../../src/audit/actor.js'
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {createOwnerAdmin} from '../../src/owner/owner-admin.js'
import {authorize, pkce, register} from '../helpers/interactive.js'
import {startInProcess} from '../helpers/server.js'

const WEB = 'https://app.example/cb'

async function consentPage(t: Parameters<typeof startInProcess>[0]) {
  const s = await startInProcess(t, {interactive: {ownerLogin: {perSession: {burst: 3, perMinute: 3}}}})
  await createOwnerAdmin({store: s.store, clock: s.clock}).setPassword('a long owner password', cliActor())
  const clientId = String((await register(s.issuer, {client_name: '<script>alert(1)</script>', redirect_uris: [WEB], token_endpoint_auth_method: 'none'})).body.client_id)
  const page = await authorize(s.issuer, {response_type: 'code', client_id: clientId, redirect_uri: WEB, code_challenge: pkce().challenge, code_challenge_method: 'S256', state: 'st'})
  const cookie = page.headers.get('set-cookie')!.split(';')[0]!
  const field = (name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(page.text)![1]!
  const post = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${s.issuer}/oauth/authorize`, {method: 'POST', redirect: 'manual', headers: {'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookie, Origin: new URL(s.issuer).origin, ...headers}, body: new URLSearchParams(fields)})
  return {s, page, cookie, csrf: field('csrf_token'), requestId: field('request_id'), post}
}

test('the consent page cannot be framed, escapes what the client says, and sets a safe session cookie (MCP security best practices)', async (t) => {
  const {page} = await consentPage(t)
  assert.equal(page.status, 200)
  assert.equal(page.headers.get('x-frame-options'), 'DENY')
  assert.match(page.headers.get('content-security-policy')!, /frame-ancestors 'none'/)
  assert.match(page.headers.get('content-security-policy')!, /default-src 'none'/)
  assert.equal(page.headers.get('cache-control'), 'no-store')
  assert.match(page.headers.get('set-cookie')!, /^gatehouse-session=[\w-]{43}; Path=\/; HttpOnly; SameSite=Lax/)
  assert.ok(!page.text.includes('<script>alert(1)</script>'), 'the client name is escaped')
  assert.ok(page.text.includes('&lt;script&gt;'))
  assert.ok(page.text.includes('app.example'), 'shows the redirect host')
})

test('CSRF: a decision without the session, with a wrong token, or from another origin is refused and issues nothing', async (t) => {
  const {s, csrf, requestId, post} = await consentPage(t)
  const approve = {request_id: requestId, csrf_token: csrf, decision: 'approve', password: 'a long owner password'}
  const noSession = await fetch(`${s.issuer}/oauth/authorize`, {method: 'POST', redirect: 'manual', headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: new URLSearchParams(approve)})
  assert.equal(noSession.status, 400)
  assert.equal((await post({...approve, csrf_token: 'forged'})).status, 403)
  assert.equal((await post({...approve, csrf_token: ''})).status, 403)
  const crossSite = await post(approve, {Origin: 'https://evil.example'})
  assert.equal(crossSite.status, 403)
  for (const r of [noSession, crossSite]) assert.equal(r.headers.get('location'), null)
  // The genuine decision still works, once (303 after a POST, RFC 9700 §4.12).
  const ok = await post(approve)
  assert.equal(ok.status, 303)
  const location = new URL(ok.headers.get('location')!)
  assert.ok(location.searchParams.get('code'))
  assert.equal(location.searchParams.get('iss'), s.issuer)
  assert.match(ok.headers.get('set-cookie')!, /gatehouse-session=/, 'logging in replaces the session id')
  assert.equal((await post(approve)).status, 400, 'a request is decided once')
})

test('deny goes back with access_denied; owner logins are rate-limited (RFC 9700 §4.10)', async (t) => {
  const {s, csrf, requestId, post} = await consentPage(t)
  for (let i = 0; i < 3; i++) assert.equal((await post({request_id: requestId, csrf_token: csrf, decision: 'approve', password: 'guess'})).status, 401)
  const limited = await post({request_id: requestId, csrf_token: csrf, decision: 'approve', password: 'a long owner password'})
  assert.equal(limited.status, 429)
  assert.ok(Number(limited.headers.get('retry-after')) >= 1)
  s.clock.advance(60_000)
  const deny = await post({request_id: requestId, csrf_token: csrf, decision: 'deny'})
  assert.equal(deny.status, 303)
  const to = new URL(deny.headers.get('location')!)
  assert.equal(to.searchParams.get('error'), 'access_denied')
  assert.equal(to.searchParams.get('state'), 'st')
  assert.equal(to.searchParams.get('code'), null)
})
