// Attacks on redirect URI matching. Rules: RFC 9700 §4.1.3 and OAuth 2.1 §2.3.1 (exact string
// matching), RFC 8252 §7.3 (loopback: only the port may vary), RFC 6749 §4.1.2.1 and RFC 9700
// §4.11 (an untrusted client or redirect URI gets an error page, never a redirect: no open
// redirector), RFC 6749 §4.1.3 (the token request repeats the redirect URI).
import {cliActor} from '../../src/audit/actor.js'
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {assertStillServes, ATTACKER_URI, interactiveServer, NATIVE, perFile, WEB} from '../helpers/attacks.js'
import {authorize, codeFor, pkce, token} from '../helpers/interactive.js'

const server = perFile((t) => interactiveServer(t))
const {challenge} = pkce()
const ask = (clientId: string, redirectUri: string | undefined, extra: Record<string, string> = {}) => {
  const params: Record<string, string> = {response_type: 'code', client_id: clientId, code_challenge: challenge, code_challenge_method: 'S256', state: 'xyz', ...extra}
  if (redirectUri !== undefined) params.redirect_uri = redirectUri
  return authorize(server().s.issuer, params)
}

/** The error page, and nothing sent anywhere. */
async function refusedWithPage(r: Awaited<ReturnType<typeof ask>>, what: string, reason = /Invalid redirect URI/) {
  assert.equal(r.status, 400, what)
  assert.equal(r.location, undefined, `${what} must not redirect`)
  assert.match(r.headers.get('content-type')!, /text\/html/, what)
  assert.match(r.text, reason, what)
}

// Registered: WEB = https://app.example/cb and NATIVE = http://localhost/callback.
for (const [attack, uri] of [
  ['suffix path', 'https://app.example/cb/extra'],
  ['suffix', 'https://app.example/cbx'],
  ['prefix', 'https://app.example/c'],
  ['other path', 'https://app.example/other'],
  ['added query', 'https://app.example/cb?x=1'],
  ['fragment', 'https://app.example/cb#frag'],
  ['host case', 'https://APP.example/cb'],
  ['scheme case', 'HTTPS://app.example/cb'],
  ['path case', 'https://app.example/CB'],
  ['userinfo naming the real host', 'https://app.example@evil.example/cb'],
  ['userinfo before the real host', 'https://evil.example@app.example/cb'],
  ['percent-encoded character', 'https://app.example/%63b'],
  ['explicit default port', 'https://app.example:443/cb'],
  ['scheme downgrade to http', 'http://app.example/cb'],
  ['javascript: scheme', 'javascript:alert(1)//app.example/cb'],
  ['data: scheme', 'data:text/html,app.example/cb'],
  ['loopback with userinfo', 'http://localhost:8080@evil.example/callback'],
  ['loopback name as a prefix', 'http://localhost.evil.example/callback'],
  ['another loopback host than registered', 'http://127.0.0.1:4567/callback'],
  ['loopback with another path', 'http://localhost:4567/callback/'],
  ['loopback with an impossible port', 'http://localhost:99999/callback'],
  ['port freedom over https', 'https://localhost:4567/callback'],
  ['backslash host confusion', 'https://app.example\\@evil.example/cb'],
  ['encoded slash path', 'https://app.example%2fcb'],
  ['dot segment', 'https://app.example/x/../cb'],
  ['trailing dot host', 'https://app.example./cb'],
  ['IDN homograph', 'https://аpp.example/cb'],
] as const) {
  test(`redirect URI: ${attack} is refused with an error page, never a redirect (RFC 9700 §4.1.3 exact matching; RFC 8252 §7.3)`, async () => {
    await refusedWithPage(await ask(server().victim, uri), uri)
  })
}

test('redirect URI: a URI registered by another client is refused (confused deputy; RFC 9700 §4.1.3)', async () => {
  // The attacker registered ATTACKER_URI for its own client; it cannot be used with the victim's client_id.
  await refusedWithPage(await ask(server().victim, ATTACKER_URI), ATTACKER_URI)
})

test('redirect URI: a repeated redirect_uri is refused with an error page (RFC 6749 §3.1)', async () => {
  const {s, victim} = server()
  const res = await fetch(`${s.issuer}/oauth/authorize?response_type=code&client_id=${victim}&code_challenge=${challenge}&code_challenge_method=S256&redirect_uri=${encodeURIComponent(WEB)}&redirect_uri=${encodeURIComponent(ATTACKER_URI)}`, {redirect: 'manual'})
  assert.equal(res.status, 400)
  assert.equal(res.headers.get('location'), null)
})

test('redirect URI: omitted when several are registered is refused, not guessed (OAuth 2.1 §2.3.2)', async () => {
  await refusedWithPage(await ask(server().victim, undefined), 'no redirect_uri')
})

test('unknown client: an error page, even with a well-formed redirect URI (RFC 6749 §4.1.2.1)', async () => {
  await refusedWithPage(await ask('gtc_nobody', WEB), 'unknown client', /Unknown application/)
})

test('missing client_id: an error page (RFC 6749 §4.1.2.1)', async () => {
  await refusedWithPage(await ask('', WEB), 'missing client', /Invalid request/)
})

test('a revoked client is unknown: an error page (RFC 6749 §4.1.2.1)', async (t) => {
  const {s, victim} = await interactiveServer(t)
  assert.equal((await authorize(s.issuer, {response_type: 'code', client_id: victim, redirect_uri: WEB, code_challenge: challenge, code_challenge_method: 'S256'})).status, 302)
  await s.admin.revoke(victim, {by: 'test'}, cliActor())
  const r = await authorize(s.issuer, {response_type: 'code', client_id: victim, redirect_uri: WEB, code_challenge: challenge, code_challenge_method: 'S256'})
  await refusedWithPage(r, 'revoked', /Unknown application/)
})

test('control: the registered URIs, and loopback on any port, are accepted (RFC 8252 §7.3)', async () => {
  assert.equal((await ask(server().victim, WEB)).status, 302)
  const native = await ask(server().victim, NATIVE.replace('localhost', 'localhost:4567'))
  assert.equal(native.status, 302)
  assert.equal(native.location!.origin, 'http://localhost:4567')
})

test('token request: a redirect_uri other than the authorization request\'s is refused (RFC 6749 §4.1.3)', async () => {
  const {s, victim} = server()
  const {code, verifier} = await codeFor(s.issuer, victim, WEB)
  const r = await token(s.issuer, {grant_type: 'authorization_code', code, client_id: victim, redirect_uri: 'http://localhost:1/callback', code_verifier: verifier})
  assert.equal(r.status, 400)
  assert.equal(r.body.error, 'invalid_grant')
  assert.equal(r.body.access_token, undefined)
})

test('token request: the redirect_uri left out when the authorization request had one is refused (RFC 6749 §4.1.3)', async () => {
  const {s, victim} = server()
  const {code, verifier} = await codeFor(s.issuer, victim, WEB)
  const r = await token(s.issuer, {grant_type: 'authorization_code', code, client_id: victim, code_verifier: verifier})
  assert.equal(r.status, 400)
  assert.equal(r.body.error, 'invalid_grant')
  await assertStillServes(s.issuer)
})
