/**
 * Tokens name the person (issue 17): an interactive grant's access token has sub = the user's
 * stable id and client_id = the client; a client-credentials token keeps sub = the client.
 * Introspection (RFC 7662 §2.2) says which: subject_type, and `username` for a person. The
 * owner's one-field form still signs in the primary owner; a user name from the form that does
 * not exist, or whose password is another's, is one "wrong" answer, and an e-mail-looking name
 * is only a name.
 */
import {cliActor} from '../../src/audit/actor.js'
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {decodeJwt} from 'jose'
import {createOwnerAdmin} from '../../src/owner/owner-admin.js'
import {createUserAdmin} from '../../src/users/user-admin.js'
import {consentBrowser, httpExchange} from '../helpers/consent-browser.js'
import {pkce, token} from '../helpers/interactive.js'
import {startInProcess} from '../helpers/server.js'

const WEB = 'https://app.example/cb'

test('sub is the person (interactive) or the client (client credentials), and introspection says which', async (t) => {
  const s = await startInProcess(t, {interactive: {autoApprove: false}})
  const users = createUserAdmin({store: s.store, clock: s.clock})
  await createOwnerAdmin({store: s.store, clock: s.clock}).setPassword('the owner password', cliActor())
  const alice = await users.add({name: 'alice', password: 'alice password 123'}, cliActor())
  const web = await s.client({name: 'web', grantTypes: ['authorization_code', 'refresh_token'], redirectUris: [WEB]})
  const machine = await s.client({name: 'machine'})
  const basic = (c: {client_id: string; client_secret: string}) => 'Basic ' + Buffer.from(`${c.client_id}:${c.client_secret}`).toString('base64')
  const introspect = async (as: {client_id: string; client_secret: string}, tok: string) =>
    (await (await fetch(`${s.issuer}/oauth/introspect`, {method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded', Authorization: basic(as)}, body: new URLSearchParams({token: tok})})).json()) as Record<string, unknown>

  /** Signs in with the form's fields and approves; returns the token response. */
  async function approveAs(fields: Record<string, string>) {
    const browser = consentBrowser(s.issuer)
    const p = pkce()
    const page = await browser.open({client_id: web.client_id, redirect_uri: WEB, code_challenge: p.challenge})
    assert.equal(page.status, 200)
    const answer = await browser.decide(page, {decision: 'approve', ...fields})
    if (answer.status !== 303) return {status: answer.status, text: answer.text}
    const code = answer.location!.searchParams.get('code')!
    const r = await token(s.issuer, {grant_type: 'authorization_code', code, redirect_uri: WEB, code_verifier: p.verifier, client_id: web.client_id, client_secret: web.client_secret})
    assert.equal(r.status, 200, JSON.stringify(r.body))
    return {status: 303, access: r.body.access_token!}
  }

  const asAlice = await approveAs({username: 'alice', password: 'alice password 123'})
  const claims = decodeJwt(asAlice.access!)
  assert.equal(claims.sub, alice.id)
  assert.equal(claims.client_id, web.client_id)
  const info = await introspect(web, asAlice.access!)
  assert.equal(info.active, true)
  assert.equal(info.sub, alice.id)
  assert.equal(info.subject_type, 'user')
  assert.equal(info.username, 'alice')
  assert.equal(info.client_id, web.client_id)

  // The owner's one-field form (no user name) keeps working: the primary owner.
  const asOwner = await approveAs({password: 'the owner password'})
  const owner = (await s.store.users.primaryOwner())!
  assert.equal(decodeJwt(asOwner.access!).sub, owner.id)
  assert.equal((await introspect(web, asOwner.access!)).username, 'owner')

  // Client credentials: sub stays the client.
  const cc = await token(s.issuer, {grant_type: 'client_credentials', client_id: machine.client_id, client_secret: machine.client_secret})
  const ccInfo = await introspect(machine, cc.body.access_token!)
  assert.equal(ccInfo.sub, machine.client_id)
  assert.equal(ccInfo.subject_type, 'client')
  assert.equal(ccInfo.username, undefined)

  // Bad input: an unknown name, the owner's password under alice's name, a name alice is not.
  for (const fields of [{username: 'mallory', password: 'alice password 123'}, {username: 'alice', password: 'the owner password'}, {username: 'alice@example.com', password: 'alice password 123'}]) {
    const r = await approveAs(fields)
    assert.equal(r.status, 401, JSON.stringify(fields))
    assert.match(r.text!, /Wrong user name or password/)
  }

  // A signed-in browser: the page names the person; "Not you?" gives a fresh session and the login form.
  const browser = consentBrowser(s.issuer)
  const first = await browser.open({client_id: web.client_id, redirect_uri: WEB})
  assert.equal((await browser.decide(first, {decision: 'approve', username: 'alice', password: 'alice password 123'})).status, 303)
  // Another client she has not approved yet: the page, naming her.
  const other = await s.client({name: 'other', grantTypes: ['authorization_code'], redirectUris: [WEB]})
  const second = await browser.open({client_id: other.client_id, redirect_uri: WEB})
  assert.equal(second.status, 200)
  assert.match(second.text, /Signed in as <strong><bdi dir="auto">alice<\/bdi><\/strong>/)
  assert.doesNotMatch(second.text, /name="password"/)
  const switched = await browser.decide(second, {decision: 'switch'})
  assert.equal(switched.status, 200)
  assert.match(switched.text, /name="username"/)
  assert.doesNotMatch(switched.text, /Signed in as/)

  // Disabled: the token is refused at introspection at once, even by a cached verifier.
  await users.disable('alice', cliActor())
  assert.equal((await introspect(web, asAlice.access!)).active, false)
  assert.equal((await introspect(web, asOwner.access!)).active, true, 'the owner\'s stands')
})

test('a disabled user: the right password is told the account is disabled (a wrong one only "wrong"), and their client\'s refresh gets invalid_grant saying so (RFC 6749 §5.2)', async (t) => {
  const s = await startInProcess(t, {interactive: {autoApprove: false}})
  const users = createUserAdmin({store: s.store, clock: s.clock})
  await users.add({name: 'bob', password: 'bob password 1234'}, cliActor())
  await users.add({name: 'carl', password: 'carl password 1234'}, cliActor())
  const web = await s.client({name: 'web', grantTypes: ['authorization_code', 'refresh_token'], redirectUris: [WEB]})
  const tokensOf = async (name: string, password: string) => {
    const browser = consentBrowser(s.issuer)
    const p = pkce()
    const page = await browser.open({client_id: web.client_id, redirect_uri: WEB, code_challenge: p.challenge})
    const answer = await browser.decide(page, {decision: 'approve', username: name, password})
    assert.equal(answer.status, 303)
    const r = await token(s.issuer, {grant_type: 'authorization_code', code: answer.location!.searchParams.get('code')!, redirect_uri: WEB, code_verifier: p.verifier, client_id: web.client_id, client_secret: web.client_secret})
    return r.body.refresh_token!
  }
  const bobRefresh = await tokensOf('bob', 'bob password 1234')
  const carlRefresh = await tokensOf('carl', 'carl password 1234')
  await users.disable('bob', cliActor())
  await users.remove('carl', cliActor())

  // Consent page: the right password says disabled (403); a wrong one is the one "wrong" answer, as for an unknown name.
  const tryLogin = async (fields: Record<string, string>) => {
    const browser = consentBrowser(s.issuer)
    return browser.decide(await browser.open({client_id: web.client_id, redirect_uri: WEB}), {decision: 'approve', ...fields})
  }
  const right = await tryLogin({username: 'bob', password: 'bob password 1234'})
  assert.equal(right.status, 403)
  assert.match(right.text, /Account disabled: bob is disabled/)
  assert.doesNotMatch(right.text, /Wrong user name or password/)
  for (const fields of [{username: 'bob', password: 'not bob\'s password'}, {username: 'nobody', password: 'bob password 1234'}]) {
    const wrong = await tryLogin(fields)
    assert.equal(wrong.status, 401)
    assert.match(wrong.text, /Wrong user name or password/)
    assert.doesNotMatch(wrong.text, /disabled/)
  }

  // /oauth/account: the same two answers.
  const url = `${s.issuer}/oauth/account`
  const anonymous = await httpExchange(url)
  const cookie = String(anonymous.headers['set-cookie']).split(';')[0]!
  const csrf = /name="csrf_token" value="([^"]+)"/.exec(anonymous.text)![1]!
  const post = (password: string) =>
    httpExchange(url, {method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded', Origin: new URL(s.issuer).origin, Cookie: cookie}, body: new URLSearchParams({csrf_token: csrf, action: 'login', username: 'bob', password}).toString()})
  const accountRight = await post('bob password 1234')
  assert.equal(accountRight.status, 403)
  assert.match(accountRight.text, /Account disabled: bob is disabled/)
  const accountWrong = await post('not bob\'s password')
  assert.equal(accountWrong.status, 401)
  assert.doesNotMatch(accountWrong.text, /disabled/)

  // Refresh: invalid_grant whose description says why (disabled, removed).
  for (const [refresh, why] of [[bobRefresh, /the user it belongs to is disabled/], [carlRefresh, /the user it belongs to was removed/]] as const) {
    const r = await token(s.issuer, {grant_type: 'refresh_token', refresh_token: refresh, client_id: web.client_id, client_secret: web.client_secret})
    assert.equal(r.status, 400)
    assert.equal(r.body.error, 'invalid_grant')
    assert.match(String(r.body.error_description), why)
  }
})
