// Concurrent wrong client secrets (issue 11 item 5's kind, at the token endpoint). Rule: RFC 9700
// §4.10 (brute force: the documented budget holds however the guesses are spread in time) and
// CONTRACT.md "Rate limits" (failed client authentication is limited per client and per address,
// without locking out other clients that authenticate correctly from the same address).
// Documented budget (README "Rate limits", server.ts defaults): 10 failures at once per client,
// 10 per minute; 30 at once per address, 30 per minute.
import {cliActor} from '../../src/audit/actor.js'
import assert from 'node:assert/strict'
import type {IncomingMessage} from 'node:http'
import {test} from 'node:test'
import {exportJWK, generateKeyPair, SignJWT} from 'jose'
import {Agent} from 'undici'
import {createClientAdmin} from '../../src/clients/admin.js'
import {manualClock} from '../../src/clock.js'
import {memoryLogger} from '../../src/log.js'
import {createClientAuthenticator} from '../../src/oauth/client-auth.js'
import {createClientDirectory} from '../../src/oauth/client-directory.js'
import {InvalidClient, TooManyRequests} from '../../src/oauth/errors.js'
import {createAuthFailureLimiter, createMemoryBudgets} from '../../src/oauth/rate-limit.js'
import {createUsageRecorder} from '../../src/oauth/usage-recorder.js'
import {openSqliteStore} from '../../src/store/sqlite/store.js'
import {basic, fetchToken} from '../helpers/clients.js'
import {startInProcess} from '../helpers/server.js'
import {tempDir} from '../helpers/tmp.js'

const CC = 'grant_type=client_credentials'

test('40 concurrent wrong secrets for one client: exactly the per-client budget (10) is checked, 30 get 429; other clients on the same address are not locked out (RFC 9700 §4.10; CONTRACT.md Rate limits)', async (t) => {
  const s = await startInProcess(t) // the default failure budgets
  const victim = await s.client({name: 'victim'})
  const bystander = await s.client({name: 'bystander'})
  const newcomer = await s.client({name: 'newcomer'})
  await fetchToken(s.issuer, bystander) // has authenticated from 127.0.0.1 before
  // 40 connections, so the requests are really in flight together.
  const dispatcher = new Agent({connections: 40, pipelining: 0})
  t.after(() => dispatcher.close())
  const guess = (i: number) =>
    fetch(`${s.issuer}/oauth/token`, {
      method: 'POST',
      headers: {Authorization: basic(victim.client_id, `gts_guess_${i}`), 'Content-Type': 'application/x-www-form-urlencoded'},
      body: CC,
      dispatcher,
    } as unknown as RequestInit).then(async (r) => ({status: r.status, body: (await r.json()) as {error: string}, retryAfter: r.headers.get('retry-after')}))
  const answers = await Promise.all(Array.from({length: 40}, (_, i) => guess(i)))
  const checked = answers.filter((a) => a.status === 401)
  const refused = answers.filter((a) => a.status === 429)
  console.log(`40 concurrent wrong secrets: ${checked.length} x 401 (checked), ${refused.length} x 429`)
  assert.equal(checked.length, 10, 'only the per-client burst is checked')
  assert.equal(refused.length, 30)
  for (const a of checked) assert.equal(a.body.error, 'invalid_client')
  for (const a of refused) assert.ok(Number(a.retryAfter) >= 1, 'Retry-After on every 429')
  // The right secret waits too while the client's own budget is spent (README "Rate limits").
  assert.equal((await fetch(`${s.issuer}/oauth/token`, {method: 'POST', headers: {Authorization: basic(victim.client_id, victim.client_secret), 'Content-Type': 'application/x-www-form-urlencoded'}, body: CC})).status, 429)
  // Other clients from the same address: one that authenticated here before, and one that never did
  // (the address budget, 30, lost only the 10 checked failures).
  assert.ok(await fetchToken(s.issuer, bystander))
  assert.ok(await fetchToken(s.issuer, newcomer))
  // The budget refills with the server's clock: one per 6 s.
  s.clock.advance(6_000)
  assert.ok(await fetchToken(s.issuer, victim))
})

test('a successful authentication gives its reserved attempt back: 25 good requests at once after 9 failures are all served (RFC 9700 §4.10)', async (t) => {
  const s = await startInProcess(t)
  const agent = await s.client({name: 'agent'})
  const post = (secret: string) =>
    fetch(`${s.issuer}/oauth/token`, {method: 'POST', headers: {Authorization: basic(agent.client_id, secret), 'Content-Type': 'application/x-www-form-urlencoded'}, body: CC})
  for (let i = 0; i < 9; i++) assert.equal((await post('gts_wrong')).status, 401)
  // One attempt is left; each good request reserves it and gives it back.
  const statuses = await Promise.all(Array.from({length: 25}, () => post(agent.client_secret).then((r) => r.status)))
  assert.deepEqual(
    statuses.filter((x) => x !== 200),
    [],
  )
  assert.equal((await post('gts_wrong')).status, 401, 'the last attempt is still there')
  assert.equal((await post('gts_wrong')).status, 429)
})

test('40 authentications with wrong secrets started in the same turn: 10 checked, 30 refused, none lets a later one through unchecked (RFC 9700 §4.10)', async (t) => {
  // The authenticator itself, over a real SQLite store, called 40 times before any call has
  // settled: a limiter read before the await and written after it lets all 40 be checked.
  const clock = manualClock(Date.now())
  const store = openSqliteStore(tempDir(t), {clock})
  const clients = createClientDirectory(store)
  const usage = createUsageRecorder({store, clock, logger: memoryLogger()})
  t.after(async () => {
    await usage.close()
    clients.close()
    await store.close()
  })
  const {client} = await createClientAdmin({store, clock}).generate({name: 'victim'}, cliActor())
  const limiter = createAuthFailureLimiter({perClient: {burst: 10, perMinute: 10}, perAddress: {burst: 30, perMinute: 30}, budgets: createMemoryBudgets(clock), clock})
  const authenticate = createClientAuthenticator({clients, limiter, usage, store, clock, assertionAudiences: ['https://as.example/oauth/token']})
  const request = (secret: string) => ({headers: {authorization: basic(client.id, secret)}}) as unknown as IncomingMessage
  const results = await Promise.allSettled(Array.from({length: 40}, (_, i) => authenticate(request(`gts_guess_${i}`), new Map(), {remoteAddress: '127.0.0.1', allowPublic: false})))
  const reasons = results.map((r) => (r.status === 'rejected' ? r.reason : new Error('authenticated with a wrong secret')))
  assert.equal(reasons.filter((e) => e instanceof InvalidClient).length, 10)
  assert.equal(reasons.filter((e) => e instanceof TooManyRequests).length, 30)
  // Each refusal names the (known) client for the audit trail.
  for (const e of reasons) assert.equal((e as InvalidClient).clientId, client.id)
})

test('40 concurrent failed client assertions for one client: 10 checked, 30 get 429 (RFC 7523 §3; RFC 9700 §4.10)', async (t) => {
  const s = await startInProcess(t)
  const {publicKey} = await generateKeyPair('ES256', {extractable: true})
  const {client: signer} = await s.admin.generate({name: 'signer', authMethod: 'private_key_jwt', jwks: {keys: [await exportJWK(publicKey)]}}, cliActor())
  // Signed with a key that is not the client's: the signature check (awaited) fails.
  const {privateKey: foreign} = await generateKeyPair('ES256')
  const tokenUrl = `${s.issuer}/oauth/token`
  const now = Math.floor(s.clock.now() / 1000)
  const assertions = await Promise.all(
    Array.from({length: 40}, () => new SignJWT({iss: signer.id, sub: signer.id, aud: tokenUrl, jti: crypto.randomUUID(), iat: now, exp: now + 60}).setProtectedHeader({alg: 'ES256'}).sign(foreign)),
  )
  const dispatcher = new Agent({connections: 40, pipelining: 0})
  t.after(() => dispatcher.close())
  const statuses = await Promise.all(
    assertions.map((a) =>
      fetch(tokenUrl, {
        method: 'POST',
        headers: {'Content-Type': 'application/x-www-form-urlencoded'},
        body: new URLSearchParams({grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: a}),
        dispatcher,
      } as unknown as RequestInit).then((r) => r.status),
    ),
  )
  const count = (n: number) => statuses.filter((x) => x === n).length
  console.log(`40 concurrent failed assertions: ${count(401)} x 401 (checked), ${count(429)} x 429`)
  assert.equal(count(401), 10)
  assert.equal(count(429), 30)
})
