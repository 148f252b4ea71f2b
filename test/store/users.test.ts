/**
 * Users (issue 17) on both backends: the repository contract, disabling as one transaction seen
 * by another process through the change feed, and the migration that turns the owner into the
 * first user while keeping every grant and consent working.
 */
import {cliActor} from '../../src/audit/actor.js'
import assert from 'node:assert/strict'
import {after, before, describe, test, type TestContext} from 'node:test'
import Database from 'better-sqlite3'
import pg from 'pg'
import {manualClock} from '../../src/clock.js'
import {createClientAdmin} from '../../src/clients/admin.js'
import {GatehouseError} from '../../src/errors.js'
import {createConsentAdmin} from '../../src/owner/consents.js'
import {StoreConflictError} from '../../src/store/errors.js'
import {migrate, migrations} from '../../src/store/migrations.js'
import {openStore} from '../../src/store/open-store.js'
import {migratePostgres, postgresMigrations} from '../../src/store/postgres/migrations.js'
import {databaseFile} from '../../src/config/paths.js'
import type {Store, UserRecord} from '../../src/store/types.js'
import {createUserAdmin} from '../../src/users/user-admin.js'
import {startPostgres, type PostgresServer} from '../helpers/postgres.js'
import {tempDir} from '../helpers/tmp.js'
import {mkdirSync} from 'node:fs'
import {heard} from '../helpers/store-changes.js'

type ManualClock = ReturnType<typeof manualClock>
const HOUR = 3_600_000

let server: PostgresServer
before(async () => {
  server = await startPostgres()
})
after(async () => {
  await server?.stop()
})

interface Backend {
  name: string
  open(t: TestContext, clock: ManualClock): Promise<{a: Store; b: Store}>
  /** A database at the schema before users, with an owner, grants, consents and refresh tokens named 'owner'; then opened (migrated). */
  legacy(t: TestContext, clock: ManualClock): Promise<Store>
}

/** Rows as a Gatehouse from before users left them (subject 'owner'); `q` runs one statement. */
async function seedLegacy(q: (sql: string, args: unknown[]) => Promise<void>, now: number) {
  await q(`INSERT INTO clients (id, name, auth_method, registration, created_at) VALUES ('gtc_old', 'old', 'none', 'dynamic', ${now})`, [])
  await q(`INSERT INTO owner (id, password_hash, updated_at) VALUES (1, 'scrypt$legacy', ${now})`, [])
  await q(`INSERT INTO grants (id, client_id, subject, scope, resource, created_at, expires_at) VALUES ('gtg_old', 'gtc_old', 'owner', 'mcp', 'https://x/mcp', ${now}, ${now + 90 * 24 * HOUR})`, [])
  await q(`INSERT INTO consents (client_id, subject, scope, created_at) VALUES ('gtc_old', 'owner', 'mcp', ${now})`, [])
  await q(`INSERT INTO tokens (id, kind, client_id, family_id, subject, scope, created_at, expires_at) VALUES ('rt_old', 'refresh_token', 'gtc_old', 'gtg_old', 'owner', 'mcp', ${now}, ${now + 24 * HOUR})`, [])
}

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
    async legacy(t, clock) {
      const dataDir = tempDir(t)
      mkdirSync(dataDir, {recursive: true})
      const db = new Database(databaseFile(dataDir))
      migrate(db, clock.now(), migrations.filter((m) => m.version <= 6))
      await seedLegacy(async (sql) => void db.exec(sql), clock.now())
      db.close()
      const store = await openStore({dataDir, clock})
      t.after(() => store.close())
      return store
    },
  },
  {
    name: 'postgresql',
    async open(t, clock) {
      const databaseUrl = await server.database()
      const dataDir = tempDir(t)
      const [a, b] = await Promise.all([openStore({dataDir, databaseUrl, clock}), openStore({dataDir, databaseUrl, clock})])
      t.after(() => Promise.all([a.close(), b.close()]))
      return {a, b}
    },
    async legacy(t, clock) {
      const databaseUrl = await server.database()
      const client = new pg.Client({connectionString: databaseUrl})
      await client.connect()
      try {
        await migratePostgres(client, clock.now(), 'test', postgresMigrations.filter((m) => m.version <= 2))
        await seedLegacy(async (sql) => void (await client.query(sql)), clock.now())
      } finally {
        await client.end()
      }
      const store = await openStore({dataDir: tempDir(t), databaseUrl, clock})
      t.after(() => store.close())
      return store
    },
  },
]

const user = (id: string, name: string, clock: ManualClock, role: UserRecord['role'] = 'member'): UserRecord => ({id, name, role, passwordHash: null, createdAt: clock.now(), disabledAt: null})


for (const backend of backends) {
  describe(`users: ${backend.name}`, () => {
    test('insert and find; a taken name is a conflict; the primary owner is the oldest active owner', async (t) => {
      const clock = manualClock(Date.UTC(2026, 10, 30))
      const {a, b} = await backend.open(t, clock)
      assert.equal(await a.users.primaryOwner(), undefined)
      await a.users.insert(user('usr_' + '1'.repeat(32), 'alice', clock))
      clock.advance(1000)
      await a.users.insert(user('usr_' + '2'.repeat(32), 'root', clock, 'owner'))
      assert.equal((await b.users.findByName('alice'))?.id, 'usr_' + '1'.repeat(32))
      await assert.rejects(b.users.insert(user('usr_' + '3'.repeat(32), 'alice', clock)), (e: unknown) => e instanceof StoreConflictError)
      assert.equal((await b.users.primaryOwner())?.name, 'root')
      // The owner's password (the one-field login, `owner set-password`) is the primary owner's.
      await b.owner.setPasswordHash('h1', clock.now())
      assert.equal((await a.users.findByName('root'))?.passwordHash, 'h1')
      assert.equal(await a.owner.passwordHash(), 'h1')
      assert.deepEqual((await a.users.list()).map((u) => u.name), ['alice', 'root'])
    })

    test('owner.setPasswordHash on a store without users makes the first user, role owner', async (t) => {
      const clock = manualClock(Date.UTC(2026, 10, 30))
      const {a, b} = await backend.open(t, clock)
      await Promise.all([a.owner.setPasswordHash('h1', 1), b.owner.setPasswordHash('h2', 2)])
      const users = await a.users.list()
      assert.equal(users.length, 1, 'two first set-passwords at once make one owner')
      assert.equal(users[0]!.name, 'owner')
      assert.equal(users[0]!.role, 'owner')
      assert.match(users[0]!.id, /^usr_[0-9a-f]{32}$/)
    })

    test('disable revokes the user\'s consents, grants and refresh tokens in one go, and the other process hears it', async (t) => {
      const clock = manualClock(Date.UTC(2026, 10, 30))
      const {a, b} = await backend.open(t, clock)
      const admin = createUserAdmin({store: a, clock})
      const alice = await admin.add({name: 'alice'}, cliActor())
      const bob = await admin.add({name: 'bob'}, cliActor())
      const {client} = await createClientAdmin({store: a, clock}).generate({name: 'web', grantTypes: ['authorization_code', 'refresh_token'], redirectUris: ['https://app.example/cb']}, cliActor())
      for (const u of [alice, bob]) {
        await a.consents.remember({clientId: client.id, subject: u.id, scopes: ['mcp'], at: clock.now()})
        await a.grants.createWithCode(
          {id: `g-${u.name}`, clientId: client.id, subject: u.id, scopes: ['mcp'], resource: 'https://x/mcp', createdAt: clock.now(), expiresAt: clock.now() + HOUR, revokedAt: null},
          {hash: `c-${u.name}`, grantId: `g-${u.name}`, clientId: client.id, redirectUri: 'https://app.example/cb', redirectUriGiven: true, codeChallenge: 'x'.repeat(43), scopes: ['mcp'], resource: 'https://x/mcp', createdAt: clock.now(), expiresAt: clock.now() + 60_000},
        )
        const r = await a.grants.redeemCode(`c-${u.name}`, {clientId: client.id, now: clock.now(), check: () => {}, refresh: {hash: `r-${u.name}`, createdAt: clock.now(), expiresAt: clock.now() + HOUR}})
        assert.equal(r.outcome, 'redeemed')
      }
      clock.advance(1000)
      await heard(b, 'grants', 3000, async () => {
        const r = await createUserAdmin({store: a, clock}).disable('bob', cliActor())
        assert.deepEqual([r.consents, r.grants], [1, 1])
      })
      assert.notEqual((await b.grants.find('g-bob'))?.revokedAt, null)
      assert.equal((await b.grants.find('g-alice'))?.revokedAt, null, 'alice keeps hers')
      assert.deepEqual(await b.grants.revokedSince(0), ['g-bob'])
      assert.equal((await b.consents.active(client.id, bob.id)).length, 0)
      assert.equal((await b.consents.active(client.id, alice.id)).length, 1)
      // Bad input: disabling again, or an unknown name, is NOT_FOUND and changes nothing.
      await assert.rejects(admin.disable('bob', cliActor()), (e: unknown) => e instanceof GatehouseError && e.code === 'NOT_FOUND')
      await assert.rejects(admin.disable('carol', cliActor()), (e: unknown) => e instanceof GatehouseError && e.code === 'NOT_FOUND' && /carol/.test(e.message))
      await assert.rejects(admin.add({name: 'alice'}, cliActor()), (e: unknown) => e instanceof GatehouseError && e.code === 'CONFLICT')
      await assert.rejects(admin.add({name: 'bad name'}, cliActor()), (e: unknown) => e instanceof GatehouseError && e.code === 'INVALID_INPUT')
      await assert.rejects(admin.add({name: 'x', role: 'admin'}, cliActor()), (e: unknown) => e instanceof GatehouseError && e.code === 'INVALID_INPUT')
      assert.equal((await a.users.list()).length, 2)
      // Consents per person: alice sees and revokes only her own.
      const consents = createConsentAdmin({store: b, clock})
      assert.deepEqual((await consents.list({includeRevoked: false, user: 'alice'})).map((c) => c.userName), ['alice'])
      assert.deepEqual((await b.consents.list({includeRevoked: true, clientId: client.id})).map((c) => c.subject).sort(), [alice.id, bob.id].sort())
      assert.deepEqual((await b.consents.list({includeRevoked: false, clientId: client.id})).map((c) => c.subject), [alice.id])
      assert.deepEqual(await b.consents.list({includeRevoked: false, clientId: 'gtc_nobody'}), [])
      await a.consents.remember({clientId: client.id, subject: 'usr_' + 'f'.repeat(32), scopes: ['mcp'], at: clock.now()})
      const r = await consents.revoke(client.id, {user: 'alice'}, cliActor())
      assert.deepEqual([r.consents, r.grants], [1, 1])
      assert.equal((await b.consents.list({includeRevoked: false})).length, 1, 'someone else\'s consent stands')
      // Remove: the name becomes free; the identity links go with it.
      await a.users.linkIdentity({issuer: 'https://idp', subject: 's-alice', userId: alice.id, email: 'a@x', createdAt: 1, lastLoginAt: 1})
      await assert.rejects(b.users.linkIdentity({issuer: 'https://idp', subject: 's-alice', userId: bob.id, email: null, createdAt: 1, lastLoginAt: 1}), (e: unknown) => e instanceof StoreConflictError)
      // Another process hears user changes (the verifier's user cache reloads on them).
      await heard(b, 'users', 3000, () => admin.remove('alice', cliActor()))
      assert.equal(await b.users.findIdentity('https://idp', 's-alice'), undefined)
      assert.equal(await b.users.findByName('alice'), undefined)
      await admin.add({name: 'alice'}, cliActor())
    })

    test('enable lets a disabled user in again (what disable revoked stays revoked), heard by the other process; identity counts per user', async (t) => {
      const clock = manualClock(Date.UTC(2026, 10, 30))
      const {a, b} = await backend.open(t, clock)
      const admin = createUserAdmin({store: a, clock})
      const carol = await admin.add({name: 'carol'}, cliActor())
      const dan = await admin.add({name: 'dan'}, cliActor())
      const {client} = await createClientAdmin({store: a, clock}).generate({name: 'web', grantTypes: ['authorization_code', 'refresh_token'], redirectUris: ['https://app.example/cb']}, cliActor())
      await a.consents.remember({clientId: client.id, subject: carol.id, scopes: ['mcp'], at: clock.now()})
      // Bad input: enabling someone who is not disabled, or no one, is NOT_FOUND and changes nothing.
      await assert.rejects(admin.enable('carol', cliActor()), (e: unknown) => e instanceof GatehouseError && e.code === 'NOT_FOUND' && /not disabled/.test(e.message))
      await assert.rejects(admin.enable('erin', cliActor()), (e: unknown) => e instanceof GatehouseError && e.code === 'NOT_FOUND')
      assert.equal(await a.users.enable(carol.id), false)
      await admin.disable('carol', cliActor())
      await heard(b, 'users', 3000, () => admin.enable('carol', cliActor()))
      assert.equal((await b.users.findById(carol.id))?.disabledAt, null)
      assert.equal((await b.consents.list({includeRevoked: false, subject: carol.id})).length, 0, 'her approvals stay revoked')
      assert.equal(await a.users.enable(carol.id), false, 'once')
      for (const [sub, user] of [['c1', carol], ['c2', carol], ['d1', dan]] as const) {
        await a.users.linkIdentity({issuer: 'https://idp', subject: sub, userId: user.id, email: null, createdAt: 1, lastLoginAt: 1})
      }
      assert.deepEqual([...(await b.users.identityCounts())].sort(), [[carol.id, 2], [dan.id, 1]].sort())
    })

    test('migration: the owner becomes the first user and every grant, consent and refresh token named owner is theirs', async (t) => {
      const clock = manualClock(Date.UTC(2026, 10, 30))
      const store = await backend.legacy(t, clock)
      const [owner] = await store.users.list()
      assert.ok(owner)
      assert.equal(owner.name, 'owner')
      assert.equal(owner.role, 'owner')
      assert.equal(owner.passwordHash, 'scrypt$legacy', 'the owner password keeps working')
      assert.match(owner.id, /^usr_[0-9a-f]{32}$/)
      assert.equal(await store.owner.passwordHash(), 'scrypt$legacy')
      assert.equal((await store.grants.find('gtg_old'))?.subject, owner.id)
      assert.equal((await store.consents.active('gtc_old', owner.id)).length, 1, 'the remembered approval still applies')
      assert.equal((await store.grants.findRefreshToken('rt_old'))?.grantId, 'gtg_old')
      // Disabling the migrated owner reaches the old family too: the subject moved everywhere.
      const r = await store.users.disable(owner.id, clock.now())
      assert.deepEqual(r, {consents: 1, grants: 1})
    })
  })
}
