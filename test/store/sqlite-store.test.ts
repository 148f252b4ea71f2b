import {cliActor} from '../../src/audit/actor.js'
import assert from 'node:assert/strict'
import {statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'node:test'
import Database from 'better-sqlite3'
import {manualClock} from '../../src/clock.js'
import {createClientAdmin} from '../../src/clients/admin.js'
import {GatehouseError} from '../../src/errors.js'
import {StoreConflictError} from '../../src/store/errors.js'
import {latestVersion} from '../../src/store/migrations.js'
import {openSqliteStore} from '../../src/store/sqlite/store.js'
import {tempDir} from '../helpers/tmp.js'

test('creates the data dir 0700 and the database 0600, migrated to the latest version', async (t) => {
  const dir = join(tempDir(t), 'nested', 'data')
  const store = openSqliteStore(dir)
  await store.close()
  assert.equal(statSync(dir).mode & 0o777, 0o700)
  assert.equal(statSync(join(dir, 'gatehouse.db')).mode & 0o777, 0o600)
  const db = new Database(join(dir, 'gatehouse.db'), {readonly: true})
  const versions = db.prepare('SELECT version FROM migrations ORDER BY version').pluck().all()
  assert.deepEqual(versions, Array.from({length: latestVersion}, (_, i) => i + 1))
  assert.equal(db.pragma('journal_mode', {simple: true}), 'wal')
  db.close()
  // Opening again applies nothing twice.
  const again = openSqliteStore(dir)
  await again.close()
})

test('a database from a newer gatehouse is refused with a clear message and left untouched', async (t) => {
  const dir = tempDir(t)
  await openSqliteStore(dir).close()
  const db = new Database(join(dir, 'gatehouse.db'))
  db.prepare('INSERT INTO migrations (version, name, applied_at) VALUES (?, ?, ?)').run(latestVersion + 1, 'future', 0)
  db.close()
  assert.throws(
    () => openSqliteStore(dir),
    (e: unknown) => e instanceof GatehouseError && e.code === 'SCHEMA_TOO_NEW' && /newer than this gatehouse knows/.test(e.message),
  )
})

test('a damaged database file is refused as STORAGE, not a crash', (t) => {
  const dir = tempDir(t)
  writeFileSync(join(dir, 'gatehouse.db'), 'this is not sqlite '.repeat(300))
  assert.throws(
    () => openSqliteStore(dir),
    (e: unknown) => e instanceof GatehouseError && e.code === 'STORAGE' && /damaged or not a gatehouse database/.test(e.message),
  )
})

test('a data dir that cannot be created is a STORAGE error naming it', (t) => {
  const file = join(tempDir(t), 'plain-file')
  writeFileSync(file, '')
  assert.throws(
    () => openSqliteStore(join(file, 'data')),
    (e: unknown) => e instanceof GatehouseError && e.code === 'STORAGE' && e.message.includes(file),
  )
})

test('a second connection hears of another connection\'s revocation through the change feed, from the next turn', async (t) => {
  const dir = tempDir(t)
  const clock = manualClock()
  const daemon = openSqliteStore(dir, {clock})
  const cli = openSqliteStore(dir, {clock})
  t.after(() => Promise.all([daemon.close(), cli.close()]))
  const heard: string[] = []
  daemon.changes.subscribe((topic) => heard.push(topic))
  const {client} = await createClientAdmin({store: cli, clock}).generate({name: 'agent'}, cliActor())
  daemon.changes.check()
  assert.equal((await daemon.clients.findById(client.id))?.revokedAt, null)
  await createClientAdmin({store: cli, clock}).revoke(client.id, {by: 'test'}, cliActor())
  // data_version is read once per turn of the event loop: the change shows from the next turn.
  await new Promise((resolve) => setImmediate(resolve))
  heard.length = 0
  daemon.changes.check()
  assert.deepEqual(heard, ['all'])
  assert.equal((await daemon.clients.findById(client.id))?.revokedAt, clock.now())
})

test('a store announces its own writes to its change feed, by topic', async (t) => {
  const clock = manualClock()
  const store = openSqliteStore(tempDir(t), {clock})
  t.after(() => store.close())
  const heard: string[] = []
  store.changes.subscribe((topic) => heard.push(topic))
  const {client} = await createClientAdmin({store, clock}).generate({name: 'agent'}, cliActor())
  assert.deepEqual(heard, ['clients'])
  await store.tokens.revokeAccessToken({jti: 'j1', clientId: client.id, expiresAt: clock.now() + 1000, at: clock.now()})
  assert.deepEqual(heard, ['clients', 'revokedTokens'])
  // Last-use times concern no cache: nothing is announced.
  await store.clients.touch(new Map([[client.id, clock.now()]]))
  assert.deepEqual(heard, ['clients', 'revokedTokens'])
})

test('names are unique among active clients; a revoked name can be reused', async (t) => {
  const store = openSqliteStore(tempDir(t))
  t.after(() => store.close())
  const admin = createClientAdmin({store, clock: manualClock()})
  const first = await admin.generate({name: 'bot'}, cliActor())
  await assert.rejects(admin.generate({name: 'bot'}, cliActor()), (e: unknown) => e instanceof GatehouseError && e.code === 'CONFLICT')
  await admin.revoke('bot', {by: 'test', reason: 'rotated'}, cliActor())
  const second = await admin.generate({name: 'bot'}, cliActor())
  assert.notEqual(first.client.id, second.client.id)
  const all = await store.clients.list({includeRevoked: true})
  assert.deepEqual(all.map((c) => `${c.name}:${c.revokedAt === null ? 'active' : 'revoked'}`).sort(), ['bot:active', 'bot:revoked'])
  const revoked = all.find((c) => c.id === first.client.id)!
  assert.equal(revoked.revokedBy, 'test')
  assert.equal(revoked.revokedReason, 'rotated')
  // Unique constraint in the database itself, for generators racing past the check: the store's
  // own conflict error, not SQLite's code (the rule above it must not speak one backend).
  await assert.rejects(store.clients.insert({...second.client, id: 'gtc_other'}), (e: unknown) => e instanceof StoreConflictError)
})

test('last-use times are written in one batch and never move backwards', async (t) => {
  const store = openSqliteStore(tempDir(t))
  t.after(() => store.close())
  const admin = createClientAdmin({store, clock: manualClock()})
  const a = await admin.generate({name: 'a'}, cliActor())
  const b = await admin.generate({name: 'b'}, cliActor())
  await store.clients.touch(new Map([[a.client.id, 2000], [b.client.id, 3000]]))
  await store.clients.touch(new Map([[a.client.id, 1000]]))
  assert.equal((await store.clients.findById(a.client.id))?.lastUsedAt, 2000)
  assert.equal((await store.clients.findById(b.client.id))?.lastUsedAt, 3000)
})

test('self-registered clients may share a name with each other and with a CLI client; the name means the CLI client, and only among registered ones can it be ambiguous (test/commands/revoke-by-name.test.ts)', async (t) => {
  const store = openSqliteStore(tempDir(t))
  t.after(() => store.close())
  const clock = manualClock()
  const admin = createClientAdmin({store, clock})
  const cli = await admin.generate({name: 'Claude Code'}, cliActor())
  const registered = {...cli.client, id: 'gtc_registered1', registration: 'dynamic' as const, secretHash: null, authMethod: 'none' as const}
  await store.clients.insert(registered)
  await store.clients.insert({...registered, id: 'gtc_registered2'})
  await assert.rejects(admin.generate({name: 'Claude Code'}, cliActor()), (e: unknown) => e instanceof GatehouseError && e.code === 'CONFLICT', 'still unique among CLI clients')
  assert.equal((await admin.revoke('Claude Code', {by: 'test'}, cliActor())).id, cli.client.id, 'registered namesakes never shadow the owner\'s client')
  await assert.rejects(admin.revoke('Claude Code', {by: 'test'}, cliActor()), (e: unknown) => e instanceof GatehouseError && e.code === 'CONFLICT' && /give the client id/.test(e.message))
  assert.equal((await admin.revoke('gtc_registered1', {by: 'test'}, cliActor())).id, 'gtc_registered1')
})

test('listJson (built by SQLite for speed) is exactly clientJson of list(), revoked and used clients included', async (t) => {
  const store = openSqliteStore(tempDir(t))
  t.after(() => store.close())
  const clock = manualClock(Date.UTC(2026, 10, 22, 20, 36, 6, 261))
  const admin = createClientAdmin({store, clock})
  const a = await admin.generate({name: 'plain "quoted" \\ name', description: 'ünïcode ✓', scopes: ['mcp', 'memories:read']}, cliActor())
  clock.advance(1)
  const b = await admin.generate({name: 'web', grantTypes: ['authorization_code', 'refresh_token'], redirectUris: ['https://app.example/cb', 'http://127.0.0.1/cb'], accessTokenTtl: 900}, cliActor())
  clock.advance(999)
  await admin.generate({name: 'third'}, cliActor())
  await store.clients.touch(new Map([[a.client.id, clock.now() + 7]]))
  await admin.revoke(b.client.id, {by: 'test'}, cliActor())
  // Milliseconds that floating-point division could round the wrong way.
  for (const ms of [Date.UTC(2027, 0, 1, 0, 0, 0, 999), Date.UTC(2027, 0, 1, 0, 0, 0, 1), Date.UTC(2099, 11, 31, 23, 59, 59, 555)]) {
    clock.set(ms)
    await admin.generate({name: `at-${ms}`}, cliActor())
  }
  const {clientJson} = await import('../../src/cli/client-view.js')
  for (const includeRevoked of [false, true]) {
    const expected = (await store.clients.list({includeRevoked})).map(clientJson)
    assert.deepEqual(JSON.parse(await store.clients.listJson({includeRevoked})), expected)
  }
})
