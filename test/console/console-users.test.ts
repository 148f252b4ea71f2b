// People in the owner's console (issue 17): who may log in (enabled owners, by name and password;
// the owner password of before as the first owner), who may not (a member, even one signed in on
// the consent page in the same browser; a disabled owner, even mid-session), and the Users page:
// what it shows, and disable/enable as `gatehouse users disable` does (consents and grants revoked
// in one transaction; RFC 7009 §2.2 for the refresh token refused after), CSRF-protected (OWASP
// CSRF Prevention Cheat Sheet, synchronizer token) and audited with the acting user.
import {cliActor} from '../../src/audit/actor.js'
import assert from 'node:assert/strict'
import {test} from 'node:test'
import type {BrowserContext} from 'playwright-core'
import {createUserAdmin} from '../../src/users/user-admin.js'
import {launchBrowser, noBrowser} from '../helpers/browser.js'
import {pkce, register, token} from '../helpers/interactive.js'
import {callbackServer} from '../helpers/oauth-client.js'
import {startInProcess} from '../helpers/server.js'
import {consoleHttp, screenshot} from './helpers.js'

const PW = {owner: 'the owner password of before', alice: 'alice owner password', carol: 'carol owner password', bob: 'bob member password'}

test('Chromium: owners log in by name (the old owner password too), a member and a disabled owner are refused; the Users page shows people and disables/enables them, revoking at once, audited', {skip: noBrowser, timeout: 180_000}, async (t) => {
  const s = await startInProcess(t)
  const users = createUserAdmin({store: s.store, clock: s.clock})
  // The owner of before (set-password on a fresh data dir makes the first owner user, named owner).
  const {hashPassword} = await import('../../src/owner/password.js')
  await s.store.owner.setPasswordHash(await hashPassword(PW.owner), s.clock.now())
  s.clock.advance(1000)
  const alice = await users.add({name: 'alice', role: 'owner', password: PW.alice}, cliActor())
  const carol = await users.add({name: 'carol', role: 'owner', password: PW.carol}, cliActor())
  const bob = await users.add({name: 'bob', role: 'member', password: PW.bob}, cliActor())
  await users.link('bob', {issuer: 'https://idp.example', subject: 'bob-at-idp'}, cliActor())
  const browser = await launchBrowser(t)
  const context = async (): Promise<BrowserContext> => browser.newContext()
  const base = `${s.issuer}/console`

  // 1. Bob (a member) signs in on the consent page and approves an app: a consent and a refresh token.
  const callback = await callbackServer(t)
  const reg = await register(s.issuer, {client_name: 'Bob App', redirect_uris: [callback.redirectUri], token_endpoint_auth_method: 'none'})
  assert.equal(reg.status, 201)
  const clientId = reg.body.client_id as string
  const {verifier, challenge} = pkce()
  const bobPage = await (await context()).newPage()
  await bobPage.goto(`${s.issuer}/oauth/authorize?${new URLSearchParams({response_type: 'code', client_id: clientId, redirect_uri: callback.redirectUri, code_challenge: challenge, code_challenge_method: 'S256', state: 'st', resource: `${s.issuer}/mcp`})}`)
  await bobPage.fill('#username', 'bob')
  await bobPage.fill('#password', PW.bob)
  const [q] = await Promise.all([callback.next(), bobPage.click('button[value=approve]')])
  const tokens = await token(s.issuer, {grant_type: 'authorization_code', code: q.get('code')!, code_verifier: verifier, client_id: clientId, redirect_uri: callback.redirectUri, resource: `${s.issuer}/mcp`})
  assert.equal(tokens.status, 200, JSON.stringify(tokens.body))

  // 2. Bob's consent-page session does not open the console (before issue 17's console login it did:
  //    any logged-in session counted as the owner's); the login page says why.
  await bobPage.goto(`${base}/users`)
  assert.equal(new URL(bobPage.url()).pathname, '/console/login')
  assert.match((await bobPage.textContent('.warn'))!, /signed in as bob, a member: the console is for owners/)
  // Nor does his right password at the console's own form: refused, naming the reason.
  await bobPage.fill('#username', 'bob')
  await bobPage.fill('#password', PW.bob)
  await bobPage.click('form.login button')
  assert.match((await bobPage.textContent('.error'))!, /bob is a member: only owner users may log in here/)
  const bobHttp = consoleHttp(s.issuer)
  const form = await bobHttp.get('/login')
  const refused = await bobHttp.post('/login', {csrf_token: bobHttp.csrfOf(form.text)!, username: 'bob', password: PW.bob})
  assert.equal(refused.status, 403)
  assert.equal((await bobHttp.get('/users')).status, 303, 'still not signed in')

  // 3. The owner password of before still logs in (empty name: the first owner).
  const legacy = consoleHttp(s.issuer)
  const legacyCsrf = await legacy.logIn(PW.owner)
  assert.equal((await legacy.get('/users')).status, 200)

  // 4. Alice logs in by name and sees the people.
  const alicePage = await (await context()).newPage()
  await alicePage.goto(`${base}/login`)
  await alicePage.fill('#username', 'alice')
  await alicePage.fill('#password', PW.carol)
  await alicePage.click('form.login button')
  assert.match((await alicePage.textContent('.error'))!, /Wrong user name or password/, 'another owner\'s password is not hers')
  await alicePage.fill('#username', 'alice')
  await alicePage.fill('#password', PW.alice)
  await alicePage.click('form.login button')
  assert.equal((await alicePage.textContent('nav .who'))!.trim(), 'alice', 'the console names who is signed in')
  // The Clients page's approvals name the person who gave each.
  assert.match((await alicePage.textContent('table.consents'))!, /Bob App[\s\S]*bob/)
  await alicePage.click('nav a[href$="/users"]')
  const row = async (name: string) => {
    const r = alicePage.locator(`tr[data-user="${name}"]`)
    return {text: (await r.textContent())!, status: (await r.locator('.status').textContent())!.trim(), identities: (await r.locator('.identities').textContent())!.trim(), consents: (await r.locator('.consents').textContent())!.trim()}
  }
  assert.deepEqual(await alicePage.locator('tr[data-user]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-user'))).then((n) => n.sort()), ['alice', 'bob', 'carol', 'owner'])
  const bobRow = await row('bob')
  assert.match(bobRow.text, /member/)
  assert.deepEqual([bobRow.status, bobRow.identities, bobRow.consents], ['enabled', '1', '1'])
  assert.match((await row('alice')).text, /owner[\s\S]*you/, 'no disable button for herself')
  await screenshot(alicePage, 'users')

  // 5. A change without the session's CSRF token is refused and changes nothing.
  for (const fields of [{} as Record<string, string>, {csrf_token: legacyCsrf.slice(0, -1) + (legacyCsrf.endsWith('A') ? 'B' : 'A')}]) {
    assert.equal((await legacy.post('/users/disable', {...fields, user_id: bob.id, confirm: 'yes'})).status, 403)
  }
  assert.equal((await s.store.users.findById(bob.id))!.disabledAt, null)
  // Nor may an owner disable themselves here.
  assert.equal((await legacy.post('/users/disable', {csrf_token: legacyCsrf, user_id: (await s.store.users.findByName('owner'))!.id, confirm: 'yes'})).status, 409)

  // 6. Alice disables Bob: his consent and grant are revoked at once, his refresh token is refused.
  await alicePage.locator('tr[data-user="bob"] a.danger').click()
  assert.match((await alicePage.textContent('main'))!, /Disable bob\?[\s\S]*1 approval/)
  await alicePage.click('button[value=yes]')
  assert.match((await alicePage.textContent('.notice'))!, /bob was disabled/)
  assert.deepEqual([(await row('bob')).status.startsWith('disabled'), (await row('bob')).consents], [true, '0'])
  assert.notEqual((await s.store.users.findById(bob.id))!.disabledAt, null)
  const refreshed = await token(s.issuer, {grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token!, client_id: clientId})
  assert.equal(refreshed.status, 400)
  assert.equal(refreshed.body.error, 'invalid_grant')
  const audit = await s.store.audit.query({event: 'user.disabled'})
  assert.equal(audit.length, 1)
  assert.equal(audit[0]!.subject, alice.id, 'the acting user')
  assert.deepEqual([audit[0]!.detail!.user_name, audit[0]!.detail!.consents_revoked, audit[0]!.detail!.grants_revoked], ['bob', 1, 1])

  // 7. And enables him again: he may sign in (his old approvals stay revoked).
  await alicePage.locator('tr[data-user="bob"] form.inline button').click()
  assert.match((await alicePage.textContent('.notice'))!, /bob may sign in again/)
  assert.equal((await row('bob')).status, 'enabled')
  assert.equal((await s.store.users.findById(bob.id))!.disabledAt, null)
  assert.equal((await s.store.audit.query({event: 'user.enabled'}))[0]!.subject, alice.id)
  assert.equal((await s.store.consents.list({includeRevoked: false, subject: bob.id})).length, 0)

  // 8. Carol (an owner) is signed in; disabled (here with the CLI's service), her session is no longer
  //    the console's from its next request, and her password no longer logs in.
  const carolPage = await (await context()).newPage()
  await carolPage.goto(`${base}/login`)
  await carolPage.fill('#username', 'carol')
  await carolPage.fill('#password', PW.carol)
  await carolPage.click('form.login button')
  assert.equal(new URL(carolPage.url()).pathname, '/console/clients')
  await users.disable('carol', cliActor())
  await carolPage.goto(`${base}/users`)
  assert.equal(new URL(carolPage.url()).pathname, '/console/login', 'a disabled owner\'s session is refused')
  await carolPage.fill('#username', 'carol')
  await carolPage.fill('#password', PW.carol)
  await carolPage.click('form.login button')
  assert.match((await carolPage.textContent('.error'))!, /Account disabled: carol is disabled/, 'her right password is told the account is disabled')
  assert.equal(new URL(carolPage.url()).pathname, '/console/login')
  void carol
})
