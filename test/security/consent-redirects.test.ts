// When the consent page may be skipped, and where errors may be sent. Rules: RFC 8252 §8.6 (a
// request from a client whose identity cannot be assured is handled as if nothing had been approved
// before), RFC 8252 §7.3 (loopback ports vary), RFC 9700 §4.11.2 and RFC 6749 §4.1.2.1 (the
// authorization server as open redirector: redirect only to a URI it trusts). Through the daemon
// (in-process, real HTTP), with the owner logging in on the consent page.
import {cliActor} from '../../src/audit/actor.js'
import assert from 'node:assert/strict'
import {test, type TestContext} from 'node:test'
import {createConsentAdmin} from '../../src/owner/consents.js'
import {hashPassword} from '../../src/owner/password.js'
import {ATTACKER_URI, generousLimits} from '../helpers/attacks.js'
import {consentBrowser} from '../helpers/consent-browser.js'
import {pkce, register} from '../helpers/interactive.js'
import {startInProcess} from '../helpers/server.js'

const PASSWORD = 'the owner password'

async function ownerServer(t: TestContext) {
  const s = await startInProcess(t, {...generousLimits, interactive: {autoApprove: false, registrationLimit: {burst: 1e6, perMinute: 1e6}}})
  await s.store.owner.setPasswordHash(await hashPassword(PASSWORD, {params: {N: 2 ** 12, r: 8, p: 1}}), s.clock.now())
  const reg = async (meta: Record<string, unknown>) => {
    const r = await register(s.issuer, {client_name: 'App', token_endpoint_auth_method: 'none', ...meta})
    assert.equal(r.status, 201, JSON.stringify(r.body))
    return String(r.body.client_id)
  }
  return {s, reg}
}

test('remembered consent: a public client whose loopback redirect differs from the registered one (another port) sees the page again; exact URIs and confidential clients do not (RFC 8252 §8.6, §7.3)', async (t) => {
  const {s, reg} = await ownerServer(t)
  const exact = 'http://127.0.0.1:40001/callback'
  const publicClient = await reg({redirect_uris: [exact]})
  const owner = consentBrowser(s.issuer)
  const first = await owner.open({client_id: publicClient, redirect_uri: exact})
  assert.equal(first.status, 200)
  assert.equal((await owner.decide(first, {decision: 'approve', password: PASSWORD})).status, 303)

  // The same client and exactly the approved, registered URI: remembered, no page.
  const again = await owner.open({client_id: publicClient, redirect_uri: exact})
  assert.equal(again.status, 302)
  assert.ok(again.location!.searchParams.get('code'))
  assert.equal(again.location!.port, '40001')

  // Another port (any program on this computer may listen there): the page again, no code.
  const otherPort = await owner.open({client_id: publicClient, redirect_uri: 'http://127.0.0.1:45555/callback'})
  assert.equal(otherPort.status, 200)
  assert.equal(otherPort.location, undefined)
  assert.match(otherPort.text, /127\.0\.0\.1:45555/, 'the page shows where the code would go')
  assert.doesNotMatch(otherPort.text, /name="password"/, 'the owner is logged in: one click')
  const clicked = await owner.decide(otherPort, {decision: 'approve'})
  assert.equal(clicked.status, 303)
  assert.equal(clicked.location!.port, '45555')

  // A public client registered without a port, used with one (Claude Code's way): every request
  // is a port that only matched by the loopback rule, so every one shows the page.
  const portless = await reg({redirect_uris: ['http://localhost/callback']})
  const p1 = await owner.open({client_id: portless, redirect_uri: 'http://localhost:5000/callback'})
  assert.equal((await owner.decide(p1, {decision: 'approve'})).status, 303)
  assert.equal((await owner.open({client_id: portless, redirect_uri: 'http://localhost:5000/callback'})).status, 200)

  // A confidential client: a code is useless without its secret, so the approval stands for any port.
  const confidential = await reg({redirect_uris: ['http://127.0.0.1/callback'], token_endpoint_auth_method: 'client_secret_basic'})
  const c1 = await owner.open({client_id: confidential, redirect_uri: 'http://127.0.0.1:40001/callback'})
  assert.equal((await owner.decide(c1, {decision: 'approve'})).status, 303)
  const c2 = await owner.open({client_id: confidential, redirect_uri: 'http://127.0.0.1:45555/callback'})
  assert.equal(c2.status, 302)
  assert.ok(c2.location!.searchParams.get('code'))
})

test('open redirector: errors for a client nobody approved are shown on our page, never redirected; after the owner approves it (or for a CLI client) they go back (RFC 9700 §4.11.2; RFC 6749 §4.1.2.1)', async (t) => {
  const {s, reg} = await ownerServer(t)
  const anonymous = await reg({client_name: 'Totally Legit', redirect_uris: [ATTACKER_URI]})
  const base = {client_id: anonymous, redirect_uri: ATTACKER_URI}
  const good = {response_type: 'code', code_challenge: pkce().challenge, code_challenge_method: 'S256', state: 'https://phish.example/login', ...base}
  const q = (params: Record<string, string>) => new URLSearchParams({...good, ...params}).toString()
  const attempts: Array<[string, string]> = [
    ['implicit flow', q({response_type: 'token'})],
    ['unknown response_type', q({response_type: 'x'})],
    ['no PKCE', q({code_challenge: '', code_challenge_method: ''})],
    ['plain PKCE', q({code_challenge_method: 'plain'})],
    ['an over-long state', q({state: 'x'.repeat(3000)})],
    ['another resource', q({resource: 'https://elsewhere.example/mcp'})],
    ['repeated parameter', `${q({})}&state=b`],
  ]
  const query = async (raw: string) => {
    const res = await fetch(`${s.issuer}/oauth/authorize?${raw}`, {redirect: 'manual'})
    return {status: res.status, location: res.headers.get('location') ? new URL(res.headers.get('location')!) : undefined, text: await res.text()}
  }
  const browser = consentBrowser(s.issuer)
  for (const [name, raw] of attempts) {
    const r = await query(raw)
    assert.equal(r.status, 400, name)
    assert.equal(r.location, undefined, `${name}: no redirect to the attacker`)
    assert.match(r.text, /not approved yet/, name)
  }

  // The owner approves the client once (the page showed attacker.example): from now on its
  // redirect URI is trusted and errors go back there, with state and iss (RFC 9207).
  const page = await browser.open(base)
  assert.equal((await browser.decide(page, {decision: 'approve', password: PASSWORD})).status, 303)
  const back = await query(attempts[0]![1])
  assert.equal(back.status, 302)
  assert.equal(back.location!.origin + back.location!.pathname, ATTACKER_URI)
  assert.equal(back.location!.searchParams.get('error'), 'unsupported_response_type')
  assert.equal(back.location!.searchParams.get('iss'), s.issuer)

  // Revoking the consent withdraws that trust.
  await createConsentAdmin({store: s.store, clock: s.clock}).revoke(anonymous, {}, cliActor())
  const revoked = await query(attempts[0]![1])
  assert.equal(revoked.status, 400)
  assert.equal(revoked.location, undefined)

  // A client the owner created with the CLI is trusted from the start.
  const cli = await s.client({name: 'cli app', redirectUris: ['https://cli-app.example/cb'], grantTypes: ['authorization_code'], authMethod: 'none'})
  const cliError = await consentBrowser(s.issuer).open({client_id: cli.client_id, redirect_uri: 'https://cli-app.example/cb', response_type: 'token'})
  assert.equal(cliError.status, 302)
  assert.equal(cliError.location!.searchParams.get('error'), 'unsupported_response_type')
})
