/**
 * The daemon's PostgreSQL lost while it runs (issue 14, operations): `gatehouse status` says so
 * (reachable or not, since when, the last error without credentials) and exits 12, the exit
 * status of "PostgreSQL unreachable" (src/errors.ts); audit events noted meanwhile wait in a
 * bounded buffer and are written when the database is back; beyond the bound they are counted
 * and one `audit.dropped` event says how many. Real PostgreSQL, stopped and started again by the
 * test; the real executables (bin/), as an operator runs them.
 */
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {existsSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, test, type TestContext} from 'node:test'
import {createAuditLog} from '../../src/audit/audit-log.js'
import {manualClock} from '../../src/clock.js'
import {memoryLogger} from '../../src/log.js'
import {openStore} from '../../src/store/open-store.js'
import {repoRoot, runBin} from '../helpers/cli.js'
import {fetchToken, type GeneratedClient} from '../helpers/clients.js'
import {startDaemon} from '../helpers/daemon.js'
import {openSession} from '../helpers/mcp-raw.js'
import {startPostgres, type PostgresServer} from '../helpers/postgres.js'
import {tempDir} from '../helpers/tmp.js'

const PASSWORD = 'pg-secret-never-shown'
let pg: PostgresServer
before(async () => {
  pg = await startPostgres()
})
after(async () => {
  await pg?.stop()
})

/** A database URL with a password in it (trust authentication ignores it): status must never show it. */
async function databaseWithPassword(): Promise<string> {
  const url = new URL(await pg.database())
  url.password = PASSWORD
  return url.toString()
}

function kekFile(t: TestContext): string {
  const file = join(tempDir(t), 'kek')
  writeFileSync(file, randomBytes(32).toString('base64') + '\n', {mode: 0o600})
  return file
}

interface Status {
  running: boolean
  store: {kind: string; location: string; reachable: boolean; since: string; last_error: string | null; last_error_at: string | null}
  audit: {pending: number; max_buffered: number; dropped: number; dropped_total: number; failing_since: string | null}
  nodes: unknown[] | null
}

/** Asks `gatehouse status --json` until `done` holds (the daemon's probe runs every second); bounded. */
async function statusUntil(dataDir: string, env: Record<string, string>, done: (code: number | null, s: Status) => boolean): Promise<{code: number | null; status: Status; stdout: string}> {
  const deadline = Date.now() + 30_000
  for (;;) {
    const r = await runBin('run', ['status', '--json'], {dataDir, env})
    const status = JSON.parse(r.stdout) as Status
    if (done(r.code, status)) return {code: r.code, status, stdout: r.stdout}
    assert.ok(Date.now() < deadline, `status never became what the test waits for: ${r.code} ${r.stdout}`)
    await new Promise((res) => setTimeout(res, 200))
  }
}

test('PostgreSQL lost while the daemon runs: status says unreachable since when (exit 12, no password shown); audited refusals wait and are written when it is back', async (t) => {
  const databaseUrl = await databaseWithPassword()
  const env = {GATEHOUSE_DATABASE_URL: databaseUrl, GATEHOUSE_KEY_ENCRYPTION_KEY_FILE: kekFile(t)}
  const dataDir = tempDir(t)
  const daemon = await startDaemon(t, {dataDir, env, args: ['--', process.execPath, join(repoRoot, 'test', 'fixtures', 'mcp-test-server.mjs')]})

  const up = await runBin('run', ['status', '--json'], {dataDir, env})
  assert.equal(up.code, 0, up.stderr)
  const before = JSON.parse(up.stdout) as Status
  assert.equal(before.store.kind, 'postgresql')
  assert.equal(before.store.reachable, true)
  assert.equal(before.store.last_error, null)
  assert.equal(before.audit.pending, 0)
  assert.ok(before.audit.max_buffered > 0)
  // A command run on this data dir without the database settings would use a SQLite file nobody
  // serves (found by a newcomer: its client then got invalid_client): refused, nothing written.
  for (const [bin, args] of [['oauth-generate-client', ['--name', 'sqlite-trap']], ['oauth-list-clients', ['--json']]] as const) {
    const r = await runBin(bin, [...args], {dataDir})
    assert.equal(r.code, 11, `${bin}: ${r.stderr}`)
    assert.match(r.stderr, /keeps its data in postgresql .*pass --database-url/)
    assert.equal(r.stdout, '')
  }
  assert.ok(!existsSync(join(dataDir, 'gatehouse.db')), 'no SQLite file was made')
  // An open session keeps the revocation watch running through the outage (src/gateway/revocation-watch.ts).
  const made = await runBin('oauth-generate-client', ['--name', 'watcher', '--json'], {dataDir, env})
  assert.equal(made.code, 0, made.stderr)
  await openSession(`${daemon.url}/mcp`, await fetchToken(daemon.url, JSON.parse(made.stdout) as GeneratedClient))

  await pg.kill()
  const lostAt = Date.now()
  // Refusals are audited (README "Audit trail"): a token request the node cannot check (the
  // store is away: 429 temporarily_unavailable), and bearer tokens refused at /mcp (401).
  const marker = randomBytes(4).toString('hex')
  for (let i = 0; i < 3; i++) {
    const r = await fetch(`${daemon.url}/oauth/token`, {
      method: 'POST',
      headers: {authorization: `Basic ${Buffer.from(`gtc_${marker}${i}:wrong`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded'},
      body: 'grant_type=client_credentials',
    })
    assert.ok(r.status < 500, `token endpoint answered ${r.status} while the database is away`)
    await r.arrayBuffer()
  }
  for (let i = 0; i < 3; i++) {
    const r = await fetch(`${daemon.url}/mcp`, {
      method: 'POST',
      headers: {authorization: `Bearer not-a-jwt-${marker}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream'},
      body: JSON.stringify({jsonrpc: '2.0', id: 1, method: 'tools/list'}),
    })
    // 401 when the token can be judged without the store; 429 + Retry-After when its keys must be re-read first.
    assert.ok(r.status === 401 || r.status === 429, `/mcp answered ${r.status}`)
    await r.arrayBuffer()
  }

  // Status: the daemon runs, its store does not answer: exit 12 and the why, without the password.
  const down = await statusUntil(dataDir, env, (code, s) => code !== 0 && s.audit.pending >= 6)
  assert.equal(down.code, 12, 'exit status of "PostgreSQL unreachable" (src/errors.ts exitCodes.DATABASE_UNREACHABLE)')
  assert.equal(down.status.running, true)
  assert.equal(down.status.store.reachable, false)
  assert.ok(Date.parse(down.status.store.since) >= lostAt - 1000, `since ${down.status.store.since}`)
  assert.match(down.status.store.last_error ?? '', /ECONNREFUSED|terminat|shutting down|connect/i)
  assert.equal(down.status.nodes, null, 'nothing else is read from a store that does not answer')
  assert.ok(down.status.audit.failing_since, 'audit writes are failing')
  assert.equal(down.status.audit.dropped, 0)
  assert.ok(!down.stdout.includes(PASSWORD), 'the database password never appears in status')
  const human = await runBin('run', ['status'], {dataDir, env})
  assert.equal(human.code, 12)
  assert.match(human.stdout, /store\s+postgresql 127\.0\.0\.1:\d+\/gh_\w+\s+UNREACHABLE since \d{4}-/)
  assert.match(human.stdout, /last error: /)
  // The key's age is not known while the store is away: said so, not shown as "0s old".
  assert.match(human.stdout, /active key \S+, age unknown/)
  assert.match(human.stdout, /audit\s+\d+ events waiting to be written \(bound \d+\), writes failing since/)
  assert.ok(!human.stdout.includes(PASSWORD) && !human.stderr.includes(PASSWORD))

  await pg.start()
  const back = await statusUntil(dataDir, env, (code, s) => code === 0 && s.audit.pending === 0)
  assert.equal(back.status.store.reachable, true)
  assert.ok(Date.parse(back.status.store.since) > Date.parse(down.status.store.since), 'since: when it came back')
  assert.ok(back.status.store.last_error, 'the last error is still shown after recovery')
  assert.equal(back.status.audit.failing_since, null)
  assert.equal(back.status.audit.dropped_total, 0)

  // Every refusal noted during the outage is in the trail.
  const trail = await runBin('run', ['audit', '--json'], {dataDir, env})
  assert.equal(trail.code, 0, trail.stderr)
  const events = JSON.parse(trail.stdout) as Array<{event: string; time: string; outcome: string; method: string | null; detail: Record<string, unknown> | null}>
  const during = events.filter((e) => e.event === 'token.refused' && Date.parse(e.time) >= lostAt)
  assert.ok(during.every((e) => e.outcome === 'temporarily_unavailable' || e.outcome === 'invalid_token'), JSON.stringify(during))
  assert.equal(during.filter((e) => e.method === 'bearer' && e.detail?.endpoint === '/mcp').length, 3, JSON.stringify(during))
  assert.equal(during.filter((e) => e.method === 'client_credentials').length, 3, JSON.stringify(during))
  assert.equal(events.filter((e) => e.event === 'audit.dropped').length, 0)
  // The watch failed four times a second while the store was away: one warning, and one line when it works again.
  const log = daemon.stdout() + daemon.stderr()
  assert.equal(log.match(/revocation check failed/g)?.length ?? 0, 1, 'one warning for the whole outage')
  assert.match(log, /revocation checks work again/)
})

test('beyond its bound the audit buffer drops the oldest, counts them, and writes one audit.dropped event once PostgreSQL is back', async (t) => {
  const databaseUrl = await pg.database()
  const store = await openStore({dataDir: tempDir(t), databaseUrl, watch: false})
  t.after(() => store.close())
  const clock = manualClock(Date.now())
  const logger = memoryLogger()
  const log = createAuditLog({store, clock, logger, flushIntervalMs: 60_000, maxBuffered: 5, retryMs: 1000})
  t.after(() => log.close())

  await pg.kill()
  for (let i = 0; i < 3; i++) log.record({event: 'mcp.request', clientId: 'c', method: 'tools/call', name: `t${i}`, outcome: 'ok'})
  await log.flush()
  assert.deepEqual({...log.backlog(), failingSince: log.backlog().failingSince !== null}, {pending: 3, maxBuffered: 5, dropped: 0, droppedTotal: 0, failingSince: true}, 'kept, not lost')
  for (let i = 3; i < 8; i++) log.record({event: 'mcp.request', clientId: 'c', method: 'tools/call', name: `t${i}`, outcome: 'ok'})
  assert.deepEqual({pending: log.backlog().pending, dropped: log.backlog().dropped}, {pending: 5, dropped: 3}, 'the bound holds; the oldest three are counted')

  await pg.start()
  clock.advance(1000)
  await log.flush()
  assert.equal(log.backlog().pending, 0)
  assert.equal(log.backlog().dropped, 0)
  assert.equal(log.backlog().droppedTotal, 3)
  const rows = await store.audit.query({})
  assert.deepEqual(rows.filter((r) => r.event === 'mcp.request').map((r) => r.name), ['t3', 't4', 't5', 't6', 't7'])
  const told = rows.filter((r) => r.event === 'audit.dropped')
  assert.equal(told.length, 1)
  assert.deepEqual(told[0]!.detail, {count: 3, bound: 5})
  assert.equal(told[0]!.outcome, 'error')
})
