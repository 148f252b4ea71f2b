/**
 * /oauth/account (issue 17): a member sees and revokes their own approvals and no one else's; an
 * owner sees and revokes everyone's. Forms carry the session's CSRF token (RFC 6749 §10.12).
 */
import {cliActor} from '../../src/audit/actor.js'
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {createOwnerAdmin} from '../../src/owner/owner-admin.js'
import {createUserAdmin} from '../../src/users/user-admin.js'
import {consentBrowser, httpExchange} from '../helpers/consent-browser.js'
import {startInProcess} from '../helpers/server.js'

const WEB = 'https://app.example/cb'

test('a member sees and revokes only their own approvals; an owner everyone\'s', async (t) => {
  const s = await startInProcess(t, {interactive: {autoApprove: false}})
  const users = createUserAdmin({store: s.store, clock: s.clock})
  await createOwnerAdmin({store: s.store, clock: s.clock}).setPassword('the owner password', cliActor())
  const alice = await users.add({name: 'alice', password: 'alice password 123'}, cliActor())
  const bob = await users.add({name: 'bob', password: 'bob password 1234'}, cliActor())
  const web = await s.client({name: 'web', grantTypes: ['authorization_code'], redirectUris: [WEB]})
  const origin = new URL(s.issuer).origin
  const url = `${s.issuer}/oauth/account`

  /** A browser in which `name` approved the web client. */
  async function approved(name: string, password: string) {
    const b = consentBrowser(s.issuer)
    const page = await b.open({client_id: web.client_id, redirect_uri: WEB})
    assert.equal((await b.decide(page, {decision: 'approve', username: name, password})).status, 303)
    const cookie = () => [...b.jar].map(([k, v]) => `${k}=${v}`).join('; ')
    const view = async () => {
      const r = await httpExchange(url, {headers: {Cookie: cookie()}})
      return {...r, csrf: /name="csrf_token" value="([^"]+)"/.exec(r.text)?.[1] ?? '', subjects: [...r.text.matchAll(/name="subject" value="([^"]+)"/g)].map((m) => m[1])}
    }
    const post = async (fields: Record<string, string>) =>
      httpExchange(url, {method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded', Origin: origin, Cookie: cookie()}, body: new URLSearchParams(fields).toString()})
    return {b, view, post}
  }
  const a = await approved('alice', 'alice password 123')
  const b = await approved('bob', 'bob password 1234')

  const mine = await a.view()
  assert.equal(mine.status, 200)
  assert.match(mine.text, /Signed in as <strong><bdi dir="auto">alice<\/bdi><\/strong> \(member\)/)
  assert.deepEqual(mine.subjects, [alice.id], 'only her own')
  // Bob's approval is not hers to revoke; without the CSRF token nothing is done either.
  assert.equal((await a.post({csrf_token: mine.csrf, action: 'revoke', client_id: web.client_id, subject: bob.id})).status, 403)
  assert.equal((await a.post({action: 'revoke', client_id: web.client_id, subject: alice.id})).status, 403)
  assert.equal((await s.store.consents.active(web.client_id, bob.id)).length, 1)
  assert.equal((await s.store.consents.active(web.client_id, alice.id)).length, 1)
  assert.equal((await a.post({csrf_token: mine.csrf, action: 'revoke', client_id: web.client_id, subject: alice.id})).status, 303)
  assert.equal((await s.store.consents.active(web.client_id, alice.id)).length, 0)
  assert.equal((await s.store.consents.active(web.client_id, bob.id)).length, 1, 'Bob\'s stands')
  assert.deepEqual((await b.view()).subjects, [bob.id])

  // The owner signs in on the page itself (empty name: the primary owner) and sees everyone's.
  const anonymous = await httpExchange(url)
  const cookie = String(anonymous.headers['set-cookie']).split(';')[0]!
  const csrf = /name="csrf_token" value="([^"]+)"/.exec(anonymous.text)![1]!
  const wrong = await httpExchange(url, {method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded', Origin: origin, Cookie: cookie}, body: new URLSearchParams({csrf_token: csrf, action: 'login', password: 'not it'}).toString()})
  assert.equal(wrong.status, 401)
  const login = await httpExchange(url, {method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded', Origin: origin, Cookie: cookie}, body: new URLSearchParams({csrf_token: csrf, action: 'login', password: 'the owner password'}).toString()})
  assert.equal(login.status, 303)
  const ownerCookie = (login.headers['set-cookie'] as string[]).map((c) => c.split(';')[0]).join('; ')
  const ownerView = await httpExchange(url, {headers: {Cookie: ownerCookie}})
  assert.match(ownerView.text, /\(owner\)\. As an owner you see everyone/)
  assert.match(ownerView.text, /<strong><bdi dir="auto">bob<\/bdi><\/strong>: /)
  const ownerCsrf = /name="csrf_token" value="([^"]+)"/.exec(ownerView.text)![1]!
  const revoke = await httpExchange(url, {method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded', Origin: origin, Cookie: ownerCookie}, body: new URLSearchParams({csrf_token: ownerCsrf, action: 'revoke', client_id: web.client_id, subject: bob.id}).toString()})
  assert.equal(revoke.status, 303)
  assert.equal((await s.store.consents.active(web.client_id, bob.id)).length, 0)

  // Audited where it happened, by whom: each approval on the consent page, each revocation on this page.
  const trail = (event: string) => s.store.audit.query({event, clientId: web.client_id})
  const granted = await trail('consent.granted')
  assert.deepEqual(granted.map((e) => [e.method, e.subject, e.detail!.user_name]).sort(), [['consent page', alice.id, 'alice'], ['consent page', bob.id, 'bob']].sort())
  const owner = (await s.store.users.primaryOwner())!
  const revoked = await trail('consent.revoked')
  assert.deepEqual(revoked.map((e) => [e.method, e.subject, e.detail!.user_id, e.detail!.by]).sort(), [['account page', alice.id, alice.id, 'alice'], ['account page', owner.id, bob.id, owner.name]].sort())
})
