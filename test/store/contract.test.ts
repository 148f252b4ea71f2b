/**
 * The store contract: every repository's behaviour, the same on every backend (SQLite in a data
 * dir, PostgreSQL on a real throwaway server). Races are run between two stores opened on the
 * same database, as two daemons (or a daemon and the CLI) would have them.
 */
import {cliActor} from '../../src/audit/actor.js'
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {after, before, describe, test, type TestContext} from 'node:test'
import {manualClock} from '../../src/clock.js'

type ManualClock = ReturnType<typeof manualClock>
import {createClientAdmin} from '../../src/clients/admin.js'
import {clientJson} from '../../src/cli/client-view.js'
import {GatehouseError} from '../../src/errors.js'
import {StoreConflictError} from '../../src/store/errors.js'
import {openStore} from '../../src/store/open-store.js'
import {decideRefresh, type RefreshOutcome} from '../../src/oauth/grants/refresh-rotation.js'
import {newRefreshToken, opaqueTokenHash} from '../../src/oauth/grants/opaque-tokens.js'
import type {AuthorizationCodeRecord, GrantRecord, Store} from '../../src/store/types.js'
import {createAuthFailureLimiter} from '../../src/oauth/rate-limit.js'
import {createSharedBudgets} from '../../src/oauth/shared-budgets.js'
import {createSharedSessionStore} from '../../src/oauth/authorize/shared-sessions.js'
import type {AuthorizationRequest} from '../../src/oauth/authorize/request.js'
import {decideConsentRevocation} from '../../src/owner/consent-revocation.js'
import {createOwnerLoginGuard, ownerLoginDefaults} from '../../src/owner/login-guard.js'
import {startPostgres, type PostgresServer} from '../helpers/postgres.js'
import {tempDir} from '../helpers/tmp.js'
import {heard} from '../helpers/store-changes.js'

interface Backend {
  name: string
  /** Two stores on one fresh database: `a` and `b` are two processes. */
  open(t: TestContext, clock: ManualClock): Promise<{a: Store; b: Store}>
}

let pg: PostgresServer
before(async () => {
  pg = await startPostgres()
})
after(async () => {
  await pg?.stop()
})

const backends: Backend[] = [
  {
    name: 'sqlite',
    async open(t, clock) {
      const dataDir = tempDir(t)
      const a = await openStore({dataDir, clock})
      const b = await openStore({dataDir, clock})
      t.after(() => Promise.all([a.close(), b.close()]))
      return {a, b}
    },
  },
  {
    name: 'postgresql',
    async open(t, clock) {
      const databaseUrl = await pg.database()
      const dataDir = tempDir(t)
      // Two nodes starting at once: the advisory lock lets one migrate, the other waits.
      const [a, b] = await Promise.all([openStore({dataDir, databaseUrl, clock}), openStore({dataDir, databaseUrl, clock})])
      t.after(() => Promise.all([a.close(), b.close()]))
      return {a, b}
    },
  },
]

const HOUR = 3_600_000

async function clientAndGrant(store: Store, clock: ManualClock, name = 'web') {
  const {client} = await createClientAdmin({store, clock}).generate({name, grantTypes: ['authorization_code', 'refresh_token'], redirectUris: ['https://app.example/cb']}, cliActor())
  const grant: GrantRecord = {id: `g-${name}`, clientId: client.id, subject: 'owner', scopes: ['mcp'], resource: 'https://gh.example/mcp', createdAt: clock.now(), expiresAt: clock.now() + 24 * HOUR, revokedAt: null}
  const code: AuthorizationCodeRecord = {
    hash: `code-${name}`, grantId: grant.id, clientId: client.id, redirectUri: 'https://app.example/cb', redirectUriGiven: true,
    codeChallenge: 'x'.repeat(43), scopes: ['mcp'], resource: grant.resource, createdAt: clock.now(), expiresAt: clock.now() + 60_000,
  }
  await store.grants.createWithCode(grant, code)
  return {client, grant, code}
}


for (const backend of backends) {
  describe(`store contract: ${backend.name}`, () => {
    test('clients: insert, find, a taken name or id is the store\'s conflict error, revoke once', async (t) => {
      const clock = manualClock(Date.UTC(2026, 10, 22))
      const {a, b} = await backend.open(t, clock)
      const admin = createClientAdmin({store: a, clock})
      const {client} = await admin.generate({name: 'bot', scopes: ['mcp', 'memories:read']}, cliActor())
      assert.deepEqual((await b.clients.findById(client.id))?.scopes, ['mcp', 'memories:read'])
      await assert.rejects(b.clients.insert({...client, id: 'gtc_other'}), (e: unknown) => e instanceof StoreConflictError)
      await assert.rejects(b.clients.insert({...client}), (e: unknown) => e instanceof StoreConflictError)
      await assert.rejects(admin.generate({name: 'bot'}, cliActor()), (e: unknown) => e instanceof GatehouseError && e.code === 'CONFLICT')
      const [r1, r2] = await Promise.all([a.clients.revoke(client.id, {at: 1, by: 'x', reason: null}), b.clients.revoke(client.id, {at: 2, by: 'y', reason: null})])
      assert.equal(Number(r1) + Number(r2), 1, 'exactly one revocation wins')
      assert.notEqual((await a.clients.findById(client.id))?.revokedAt, null)
    })

    test('clients: listJson is exactly clientJson of list(); last use never moves backwards', async (t) => {
      const clock = manualClock(Date.UTC(2026, 10, 22, 20, 36, 6, 261))
      const {a} = await backend.open(t, clock)
      const admin = createClientAdmin({store: a, clock})
      const x = await admin.generate({name: 'plain "quoted" \\ name', description: 'ünïcode ✓'}, cliActor())
      clock.advance(999)
      const y = await admin.generate({name: 'web', grantTypes: ['authorization_code'], redirectUris: ['https://app.example/cb'], accessTokenTtl: 900}, cliActor())
      await a.clients.touch(new Map([[x.client.id, clock.now() + 7]]))
      await a.clients.touch(new Map([[x.client.id, clock.now() - 5]]))
      await admin.revoke(y.client.id, {by: 'test'}, cliActor())
      assert.equal((await a.clients.findById(x.client.id))?.lastUsedAt, clock.now() + 7)
      for (const includeRevoked of [false, true]) {
        assert.deepEqual(JSON.parse(await a.clients.listJson({includeRevoked})), (await a.clients.list({includeRevoked})).map(clientJson))
      }
    })

    test('tokens: a revoked access token is listed until it expires; a client assertion is accepted once, racing', async (t) => {
      const clock = manualClock(Date.UTC(2026, 10, 22))
      const {a, b} = await backend.open(t, clock)
      const {client} = await createClientAdmin({store: a, clock}).generate({name: 'bot'}, cliActor())
      await a.tokens.revokeAccessToken({jti: 'j1', clientId: client.id, expiresAt: clock.now() + 1000, at: clock.now()})
      assert.deepEqual(await b.tokens.revokedAccessTokens(clock.now()), ['j1'])
      assert.deepEqual(await b.tokens.revokedAccessTokens(clock.now() + 1000), [])
      // RFC 7523 §3: two nodes receiving one assertion at once accept it once.
      const used = await Promise.all([a, b, a, b].map((s) => s.tokens.useAssertion({clientId: client.id, jti: 'assert-1', expiresAt: clock.now() + 1000})))
      assert.deepEqual(used.filter(Boolean).length, 1)
      assert.equal(await a.tokens.pruneExpired(clock.now() + 2000), 2)
    })

    test('grants: two consumers of one code: one is redeemed, the other is a replay that revokes the grant', async (t) => {
      const clock = manualClock(Date.UTC(2026, 10, 22))
      const {a, b} = await backend.open(t, clock)
      const {client, grant, code} = await clientAndGrant(a, clock)
      const redeem = (s: Store, n: number) => s.grants.redeemCode(code.hash, {clientId: client.id, now: clock.now(), check() {}, refresh: {hash: `rt-${n}`, createdAt: clock.now(), expiresAt: clock.now() + HOUR}})
      const outcomes = (await Promise.all([redeem(a, 1), redeem(b, 2)])).map((r) => r.outcome).sort()
      // OAuth 2.1 §4.1.3: a code is used once; a second use revokes what it produced (RFC 9700 §4.5).
      assert.deepEqual(outcomes, ['redeemed', 'replayed'])
      assert.notEqual((await a.grants.find(grant.id))?.revokedAt, null)
      assert.ok((await b.grants.revokedSince(0)).includes(grant.id))
    })

    test('grants: a refusing check consumes nothing; wrong client and unknown codes change nothing', async (t) => {
      const clock = manualClock(Date.UTC(2026, 10, 22))
      const {a} = await backend.open(t, clock)
      const {client, code} = await clientAndGrant(a, clock)
      await assert.rejects(a.grants.redeemCode(code.hash, {clientId: client.id, now: clock.now(), check() { throw new Error('bad verifier') }}), /bad verifier/)
      assert.equal((await a.grants.redeemCode(code.hash, {clientId: 'someone-else', now: clock.now(), check() {}})).outcome, 'wrong_client')
      assert.equal((await a.grants.redeemCode('nope', {clientId: client.id, now: clock.now(), check() {}})).outcome, 'unknown')
      assert.equal((await a.grants.redeemCode(code.hash, {clientId: client.id, now: clock.now(), check() {}})).outcome, 'redeemed')
    })

    // The rotation rule is src/oauth/grants/refresh-rotation.ts; what each backend owes it is one
    // serialised read-decide-write (`exchangeRefreshToken`), across connections and nodes.
    const exchanger = (client: {id: string}, clock: ReturnType<typeof manualClock>, graceMs: number) =>
      (s: Store, presented: string) =>
        s.grants.exchangeRefreshToken(opaqueTokenHash(presented), clock.now(), (view) =>
          decideRefresh(view, {presented, clientId: client.id, now: clock.now(), graceMs, refreshTtlMs: HOUR, random: randomBytes, check() {}}),
        )
    const successorOf = (r: RefreshOutcome) => (r.outcome === 'rotated' ? r.refreshToken : undefined)

    test('grants: racing exchanges of one refresh token, on two connections, never branch the family', async (t) => {
      const clock = manualClock(Date.UTC(2026, 10, 22))
      const {a, b} = await backend.open(t, clock)
      const {client, code} = await clientAndGrant(a, clock)
      const rt0 = newRefreshToken()
      await a.grants.redeemCode(code.hash, {clientId: client.id, now: clock.now(), check() {}, refresh: {hash: opaqueTokenHash(rt0), createdAt: clock.now(), expiresAt: clock.now() + HOUR}})
      const exchange = exchanger(client, clock, 60_000)
      clock.advance(1)
      // Serialised, the second is a retry within the grace and gets the same successor.
      const first = await Promise.all([exchange(a, rt0), exchange(b, rt0)])
      const successors = new Set(first.map(successorOf).filter(Boolean))
      assert.equal(successors.size, 1, JSON.stringify(first.map((r) => r.outcome)))
      clock.advance(1)
      const rt1 = [...successors][0]!
      const second = await Promise.all([exchange(a, rt1), exchange(b, rt1)])
      assert.ok(new Set(second.map(successorOf).filter(Boolean)).size <= 1, JSON.stringify(second.map((r) => r.outcome)))
    })

    test('grants: a thief replaying the rotated-away token within the grace gets the same successor, and the family dies at the first divergence', async (t) => {
      const clock = manualClock(Date.UTC(2026, 10, 22))
      const {a, b} = await backend.open(t, clock)
      const {client, grant, code} = await clientAndGrant(a, clock)
      const rt0 = newRefreshToken()
      await a.grants.redeemCode(code.hash, {clientId: client.id, now: clock.now(), check() {}, refresh: {hash: opaqueTokenHash(rt0), createdAt: clock.now(), expiresAt: clock.now() + HOUR}})
      const exchange = exchanger(client, clock, 60_000)
      const rt1 = successorOf(await exchange(a, rt0))!
      clock.advance(1000)
      const thief = await exchange(b, rt0)
      // RFC 9700 §4.14.2: the grace never mints a second branch.
      assert.equal(successorOf(thief), rt1)
      const rt2 = successorOf(await exchange(a, rt1))!
      assert.ok(rt2)
      clock.advance(1000)
      assert.equal((await exchange(b, rt0)).outcome, 'replayed')
      assert.notEqual((await a.grants.find(grant.id))?.revokedAt, null)
      assert.notEqual((await exchange(a, rt2)).outcome, 'rotated')
    })

    test('grants: a rotated refresh token used again after the grace period revokes the whole family', async (t) => {
      const clock = manualClock(Date.UTC(2026, 10, 22))
      const {a, b} = await backend.open(t, clock)
      const {client, grant, code} = await clientAndGrant(a, clock)
      const rt0 = newRefreshToken()
      await a.grants.redeemCode(code.hash, {clientId: client.id, now: clock.now(), check() {}, refresh: {hash: opaqueTokenHash(rt0), createdAt: clock.now(), expiresAt: clock.now() + HOUR}})
      const exchange = exchanger(client, clock, 1000)
      const rt1 = successorOf(await exchange(a, rt0))!
      clock.advance(1001)
      // RFC 9700 §4.14.2: reuse of a rotated refresh token revokes the family, on any node.
      assert.equal((await exchange(b, rt0)).outcome, 'replayed')
      assert.notEqual((await a.grants.find(grant.id))?.revokedAt, null)
      assert.notEqual((await exchange(a, rt1)).outcome, 'rotated')
    })

    test('consents: revoking a client\'s consents revokes the grants made under them, in one change', async (t) => {
      const clock = manualClock(Date.UTC(2026, 10, 22))
      const {a, b} = await backend.open(t, clock)
      const {client, grant} = await clientAndGrant(a, clock)
      await a.consents.remember({clientId: client.id, subject: 'owner', scopes: ['mcp', 'a'], at: clock.now()})
      await a.consents.remember({clientId: client.id, subject: 'owner', scopes: ['a', 'mcp'], at: clock.now()})
      assert.equal((await b.consents.active(client.id, 'owner')).length, 1)
      // A rule that throws inside the transaction writes nothing.
      await assert.rejects(b.consents.revokeWith(client.id, () => {
        throw new Error('refused')
      }), /refused/)
      assert.equal((await a.consents.active(client.id, 'owner')).length, 1)
      // Two nodes revoking at once: the rule runs once on the live rows, the other finds nothing left.
      const both = await Promise.all([a, b].map((s) => s.consents.revokeWith(client.id, (view) => decideConsentRevocation(view, clock.now()))))
      assert.deepEqual(both.map((r) => r.consents + r.grants).sort(), [0, 2])
      assert.notEqual((await a.grants.find(grant.id))?.revokedAt, null)
      assert.equal((await a.consents.list({includeRevoked: false})).length, 0)
      assert.equal((await a.consents.list({includeRevoked: true})).length, 1)
    })

    test('signing keys rotate and prune; secrets round-trip; the owner\'s hash is one row', async (t) => {
      const clock = manualClock(Date.UTC(2026, 10, 22))
      const {a, b} = await backend.open(t, clock)
      const key = (kid: string) => ({kid, alg: 'ES256', publicJwk: {kty: 'EC', kid}, privateKeyStore: 'file' as const, createdAt: clock.now(), retiredAt: null, verifyUntil: null})
      await a.signingKeys.rotate(key('k1'), {at: clock.now(), verifyUntil: clock.now() + HOUR})
      await b.signingKeys.rotate(key('k2'), {at: clock.now(), verifyUntil: clock.now() + HOUR})
      assert.deepEqual((await a.signingKeys.list()).map((k) => [k.kid, k.retiredAt === null]), [['k2', true], ['k1', false]])
      assert.deepEqual((await b.signingKeys.prune(clock.now() + HOUR + 1)).map((k) => k.kid), ['k1'])
      await a.secrets.set('s', 'sealed-1')
      await b.secrets.set('s', 'sealed-2')
      assert.equal(await a.secrets.get('s'), 'sealed-2')
      await a.secrets.delete('s')
      assert.equal(await b.secrets.get('s'), undefined)
      await a.owner.setPasswordHash('h1', 1)
      await b.owner.setPasswordHash('h2', 2)
      assert.equal(await a.owner.passwordHash(), 'h2')
    })

    test('audit: batches append in order, filter, follow and prune', async (t) => {
      const clock = manualClock(Date.UTC(2026, 10, 22))
      const {a} = await backend.open(t, clock)
      await a.audit.append([
        {time: 1, event: 'token.issued', clientId: 'c1', outcome: 'ok', detail: {n: 1}},
        {time: 2, event: 'mcp.request', clientId: 'c2', outcome: 'ok', method: 'tools/call', name: 'x', durationMs: 1.5},
      ])
      const all = await a.audit.query({})
      assert.deepEqual(all.map((e) => [e.event, e.detail, e.durationMs]), [['token.issued', {n: 1}, null], ['mcp.request', null, 1.5]])
      assert.deepEqual((await a.audit.query({clientId: 'c2'})).map((e) => e.time), [2])
      assert.deepEqual((await a.audit.query({afterId: all[0]!.id})).map((e) => e.time), [2])
      assert.equal(await a.audit.prune(2), 1)
    })

    test('change feed: a store announces its own writes by topic, and hears another process\'s', async (t) => {
      const clock = manualClock(Date.UTC(2026, 10, 22))
      const {a, b} = await backend.open(t, clock)
      const own: string[] = []
      a.changes.subscribe((topic) => own.push(topic))
      const {client} = await createClientAdmin({store: a, clock}).generate({name: 'bot'}, cliActor())
      assert.ok(own.includes('clients'))
      await a.clients.touch(new Map([[client.id, clock.now()]]))
      const other = heard(b, 'clients')
      await a.clients.revoke(client.id, {at: clock.now(), by: 'cli', reason: null})
      await other
      const keys = heard(a, 'revokedTokens')
      await b.tokens.revokeAccessToken({jti: 'j', clientId: client.id, expiresAt: clock.now() + 1000, at: clock.now()})
      await keys
    })

    test('budgets: failures counted on two nodes spend one budget; racing spends of the last attempt: one wins (RFC 9700 §4.10)', async (t) => {
      const clock = manualClock(Date.UTC(2026, 10, 22))
      const {a, b} = await backend.open(t, clock)
      const limits = {perClient: {burst: 4, perMinute: 4}, perAddress: {burst: 100, perMinute: 100}}
      const [ba, bb] = [createSharedBudgets({store: a, clock}), createSharedBudgets({store: b, clock})]
      t.after(() => (ba.close(), bb.close()))
      const [la, lb] = [createAuthFailureLimiter({...limits, budgets: ba, clock}), createAuthFailureLimiter({...limits, budgets: bb, clock})]
      assert.equal(await lb.retryAfter('c1', '10.0.0.1'), 0, 'a full budget')
      await la.failed('c1', '10.0.0.1')
      await lb.failed('c1', '10.0.0.2')
      await la.failed('c1', '10.0.0.3')
      await heard(b, 'budgets')
      assert.equal(await lb.retryAfter('c1', '10.0.0.4'), 0, 'one attempt left of four')
      await lb.failed('c1', '10.0.0.4')
      await heard(a, 'budgets')
      // The fourth failure, on node b, is what node a refuses: one budget.
      assert.ok((await la.retryAfter('c1', '10.0.0.5')) > 0)
      assert.equal(await la.retryAfter('c2', '10.0.0.5'), 0, 'another client keeps its budget')
      clock.advance(15_000)
      assert.equal(await la.retryAfter('c1', '10.0.0.5'), 0, 'refilled: 4 per minute')
      // An atomic reservation of the one attempt left (owner logins): of two nodes racing, one gets it.
      const guardA = createOwnerLoginGuard({clock, budgets: ba, limits: {...ownerLoginDefaults, perSession: {burst: 1, perMinute: 1}}})
      const guardB = createOwnerLoginGuard({clock, budgets: bb, limits: {...ownerLoginDefaults, perSession: {burst: 1, perMinute: 1}}})
      const got = await Promise.all([guardA.reserve({sessionId: 's', address: '10.1.0.1', deviceId: undefined}), guardB.reserve({sessionId: 's', address: '10.1.0.2', deviceId: undefined})])
      assert.equal(got.filter((r) => !('retryAfter' in r)).length, 1, 'exactly one reservation')
      // Trust learnt on one node lets that client through a spent address budget on the other.
      const tight = {perClient: {burst: 10, perMinute: 10}, perAddress: {burst: 1, perMinute: 1}}
      const [ta, tb] = [createAuthFailureLimiter({...tight, budgets: ba, clock}), createAuthFailureLimiter({...tight, budgets: bb, clock})]
      await ta.succeeded('good', '10.2.0.1')
      await tb.failed('bad', '10.2.0.1')
      await heard(a, 'budgets')
      assert.ok((await tb.retryAfter('other', '10.2.0.1')) > 0, 'the address budget is spent')
      assert.equal(await tb.retryAfter('good', '10.2.0.1'), 0, 'a client known good there is not held back')
      clock.advance(120_000)
      assert.ok((await a.budgets.prune(clock.now(), 0)) >= 1)
      assert.equal((await b.budgets.levels(['client:c1'])).size, 0, 'full buckets are pruned')
    })

    test('browser sessions: a consent parked on one node is decided once, on another; bounds never drop a logged-in session', async (t) => {
      const clock = manualClock(Date.UTC(2026, 10, 22))
      const {a, b} = await backend.open(t, clock)
      const {client} = await createClientAdmin({store: a, clock}).generate({name: 'web', grantTypes: ['authorization_code'], redirectUris: ['https://app.example/cb']}, cliActor())
      const limits = {maxAnonymous: 5, maxAnonymousPerAddress: 3, maxOwner: 2, maxPendingPerSession: 2}
      const nodes = [a, b].map((store) => createSharedSessionStore({store, clock, findClient: (id) => store.clients.findById(id), limits}))
      const [na, nb] = nodes as [ReturnType<typeof createSharedSessionStore>, ReturnType<typeof createSharedSessionStore>]
      const request: AuthorizationRequest = {client, redirectUri: 'https://app.example/cb', redirectUriGiven: true, state: 's t', scopes: ['mcp'], resource: 'https://gh.example/mcp', codeChallenge: 'c'.repeat(43)}
      const anon = await na.create('10.0.0.1')
      const parked = await na.park(anon.id, request)
      assert.deepEqual((await nb.get(anon.id))?.csrf, anon.csrf, 'node b knows node a\'s session')
      assert.equal(await nb.pending(parked, 'someone-else'), undefined, 'only for its own session')
      const owner = await nb.login(anon)
      assert.equal(await na.get(anon.id), undefined, 'the old id is gone (session fixation)')
      assert.deepEqual({...(await na.pending(parked, owner.id))!, client: undefined}, {...request, client: undefined}, 'the parked request moved with the login')
      // Two nodes answering one request: one settles it.
      const settled = await Promise.all([na.settle(parked, owner.id), nb.settle(parked, owner.id)])
      assert.deepEqual(settled.map(Number).sort(), [0, 1])
      assert.equal(await na.pending(parked, owner.id), undefined)
      // Bounds: per address, in all, per session; a logged-in session is never what goes.
      const first = await na.create('10.0.0.9')
      for (let i = 0; i < 3; i++) {
        clock.advance(1)
        await nb.create('10.0.0.9')
      }
      assert.equal(await na.get(first.id), undefined, 'the address\'s least recently used went')
      for (let i = 0; i < 6; i++) {
        clock.advance(1)
        await na.create(`10.0.1.${i}`)
      }
      const size = await nb.size()
      assert.ok(size.anonymous <= 5, JSON.stringify(size))
      assert.equal((await na.get(owner.id))?.ownerAt, owner.ownerAt, 'still logged in')
      const p = [await na.park(owner.id, request), await na.park(owner.id, request), await nb.park(owner.id, request)]
      assert.equal(await na.pending(p[0], owner.id), undefined, 'the oldest parked request went')
      assert.ok(await nb.pending(p[2], owner.id))
      // Expiry, and a client revoked meanwhile finds its request gone.
      await createClientAdmin({store: b, clock}).revoke(client.id, {by: 'test'}, cliActor())
      assert.equal(await na.pending(p[1], owner.id), undefined)
      clock.advance(13 * 3_600_000)
      assert.equal(await nb.get(owner.id), undefined)
      assert.ok((await a.browserSessions.prune(clock.now())) > 0)
      assert.deepEqual(await b.browserSessions.count(clock.now()), {anonymous: 0, owner: 0})
    })

    test('nodes: heartbeats list the live nodes; a stopped or silent node leaves', async (t) => {
      const clock = manualClock(Date.UTC(2026, 10, 22))
      const {a, b} = await backend.open(t, clock)
      const node = (id: string) => ({id, url: `http://10.0.0.${id.length}:8080`, host: 'h', pid: 42, version: '1.0.0', startedAt: clock.now(), seenAt: clock.now()})
      await a.nodes.beat(node('a'))
      clock.advance(1)
      await b.nodes.beat(node('bb'))
      assert.deepEqual((await a.nodes.live(clock.now() - 10_000)).map((n) => n.id), ['a', 'bb'])
      clock.advance(20_000)
      await b.nodes.beat({...node('bb'), startedAt: clock.now() - 20_001})
      assert.deepEqual((await b.nodes.live(clock.now() - 10_000)).map((n) => n.id), ['bb'])
      await b.nodes.leave('bb', clock.now() - 10_000)
      assert.deepEqual(await a.nodes.live(0), [])
    })
  })
}
