// The consent pages' in-memory browser sessions under a flood of cookie-less requests, each of
// which makes an anonymous session. Rules: OWASP Session Management (bounded server-side state;
// an attacker must not end a victim's session), RFC 9700 §4.10 (resource exhaustion at the
// authorization endpoint). Through the daemon (in-process, real HTTP), from several loopback
// source addresses. Bounds: src/oauth/authorize/sessions.ts (here made small).
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {manualClock} from '../../src/clock.js'
import {createSessionStore, sessionDefaults} from '../../src/oauth/authorize/sessions.js'
import {hashPassword} from '../../src/owner/password.js'
import {generousLimits} from '../helpers/attacks.js'
import {consentBrowser} from '../helpers/consent-browser.js'
import {register} from '../helpers/interactive.js'
import {startInProcess} from '../helpers/server.js'

const PASSWORD = 'the owner password'
const WEB = 'https://app.example/cb'

test('a flood of anonymous sessions never logs the owner out nor drops the request the owner is deciding; one address only evicts its own (OWASP session management)', async (t) => {
  const s = await startInProcess(t, {
    ...generousLimits,
    interactive: {autoApprove: false, registrationLimit: {burst: 1e6, perMinute: 1e6}, browserSessions: {maxAnonymous: 40, maxAnonymousPerAddress: 15}},
  })
  await s.store.owner.setPasswordHash(await hashPassword(PASSWORD, {params: {N: 2 ** 12, r: 8, p: 1}}), s.clock.now())
  const client = async (name: string) => String((await register(s.issuer, {client_name: name, redirect_uris: [WEB], token_endpoint_auth_method: 'none'})).body.client_id)
  const [a, b] = [await client('App A'), await client('App B')]
  const ask = {redirect_uri: WEB}

  // The owner logs in approving A, then opens B's consent page and has not decided yet.
  const owner = consentBrowser(s.issuer)
  assert.equal((await owner.decide(await owner.open({...ask, client_id: a}), {decision: 'approve', password: PASSWORD})).status, 303)
  const deciding = await owner.open({...ask, client_id: b})
  assert.equal(deciding.status, 200)
  assert.doesNotMatch(deciding.text, /name="password"/)
  // Someone at another address is on the login form (anonymous, mid-consent).
  const neighbour = consentBrowser(s.issuer, {localAddress: '127.0.0.3'})
  const neighbourPage = await neighbour.open({...ask, client_id: a})

  // One address floods: it can only hold its own 15 anonymous sessions, dropping its oldest.
  const flood = (localAddress: string, n: number) =>
    Promise.all(Array.from({length: n}, async () => {
      const fb = consentBrowser(s.issuer, {localAddress})
      return {fb, page: await fb.open({...ask, client_id: a})}
    }))
  const first = (await flood('127.0.0.2', 1))[0]!
  await flood('127.0.0.2', 60)
  const evicted = await first.fb.decide(first.page, {decision: 'approve', password: PASSWORD})
  assert.equal(evicted.status, 400, 'the flooding address lost its own oldest session')
  assert.match(evicted.text, /Session expired/)
  assert.equal((await neighbour.decide(neighbourPage, {decision: 'approve', password: PASSWORD})).status, 303, 'another address\'s anonymous session survived')

  // Many addresses flood past the global bound of anonymous sessions: the owner's logged-in
  // session and the request parked in it are never what gets dropped.
  for (const address of ['127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7', '127.0.0.8']) await flood(address, 30)
  const decided = await owner.decide(deciding, {decision: 'approve'})
  assert.equal(decided.status, 303, decided.text.slice(0, 300))
  assert.ok(decided.location!.searchParams.get('code'))
  const still = await owner.open({...ask, client_id: a})
  assert.equal(still.status, 302, 'still logged in: remembered consent applies')
})

test('the session store itself: 20,000 anonymous sessions from one address and from many never evict a logged-in one (OWASP session management)', async () => {
  const clock = manualClock()
  const sessions = createSessionStore({clock})
  const owner = await sessions.login(await sessions.create('127.0.0.1'))
  for (let i = 0; i < 10_000; i++) await sessions.create('127.0.0.1')
  for (let i = 0; i < 10_000; i++) await sessions.create(`10.0.${i >> 8}.${i & 255}`)
  assert.equal((await sessions.get(owner.id))?.ownerAt, owner.ownerAt, 'still logged in')
  assert.ok((await sessions.size()).anonymous <= sessionDefaults.maxAnonymous)
})
