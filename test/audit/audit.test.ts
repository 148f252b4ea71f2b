import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {join} from 'node:path'
import {test} from 'node:test'
import {createAuditLog} from '../../src/audit/audit-log.js'
import {manualClock} from '../../src/clock.js'
import {memoryLogger} from '../../src/log.js'
import {openSqliteStore} from '../../src/store/sqlite/store.js'
import {repoRoot, runBin} from '../helpers/cli.js'
import {basic, fetchToken, generateClient} from '../helpers/clients.js'
import {startDaemon} from '../helpers/daemon.js'
import {startInProcess} from '../helpers/server.js'
import {tempDir} from '../helpers/tmp.js'

type Row = Record<string, unknown>

test('token events and admin actions land in the audit trail, and `gatehouse audit` shows them', async (t) => {
  const dataDir = tempDir(t)
  const agent = await generateClient(dataDir, ['--name', 'audited'])
  const daemon = await startDaemon(t, {dataDir})
  await fetchToken(daemon.issuer, agent)
  const refused = await fetch(`${daemon.issuer}/oauth/token`, {
    method: 'POST',
    headers: {Authorization: basic(agent.client_id, 'gts_wrong'), 'Content-Type': 'application/x-www-form-urlencoded'},
    body: 'grant_type=client_credentials',
  })
  assert.equal(refused.status, 401)
  await runBin('oauth-revoke-client', [agent.client_id, '--yes'], {dataDir})
  assert.equal(await daemon.stop(), 0) // flushes the audit buffer

  const r = await runBin('run', ['audit', '--json'], {dataDir})
  assert.equal(r.code, 0, r.stderr)
  const rows = JSON.parse(r.stdout) as Row[]
  for (const row of rows) for (const key of ['time', 'client_id', 'event', 'method', 'name', 'outcome']) assert.ok(key in row, key)
  const summary = rows.map((e) => `${e.event}:${e.outcome}`)
  assert.deepEqual(summary, ['client.created:ok', 'token.issued:ok', 'token.refused:invalid_client', 'client.revoked:ok'])
  const issued = rows[1]!
  assert.equal(issued.client_id, agent.client_id)
  assert.equal(issued.method, 'client_credentials')
  assert.match(String(issued.time), /^\d{4}-\d\d-\d\dT/)

  const mine = JSON.parse((await runBin('run', ['audit', '--json', '--client-id', 'gtc_nobody'], {dataDir})).stdout) as Row[]
  assert.deepEqual(mine, [])
  const recent = JSON.parse((await runBin('run', ['audit', '--json', '--since', '1h'], {dataDir})).stdout) as Row[]
  assert.equal(recent.length, 4)
  const future = JSON.parse((await runBin('run', ['audit', '--json', '--since', '2999-01-01T00:00:00Z'], {dataDir})).stdout) as Row[]
  assert.deepEqual(future, [])
  const table = await runBin('run', ['audit'], {dataDir})
  assert.match(table.stdout, /token\.issued/)
  const bad = await runBin('run', ['audit', '--since', 'yesterday'], {dataDir})
  assert.equal(bad.code, 3)
  assert.match(bad.stderr, /invalid --since/)
})

test('`gatehouse audit --follow --json` prints new events as JSON lines as they are written', {timeout: 60_000}, async (t) => {
  const dataDir = tempDir(t)
  await generateClient(dataDir, ['--name', 'first'])
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'run.js'), 'audit', '--follow', '--json'], {
    env: {PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', GATEHOUSE_DATA_DIR: dataDir, NO_COLOR: '1'},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.after(() => child.kill('SIGKILL'))
  // One listener for the child's whole life: a line printed while nobody waits is kept, not lost.
  let out = ''
  const waiting: Array<() => void> = []
  child.stdout.on('data', (d: Buffer) => {
    out += d
    for (const wake of waiting.splice(0)) wake()
  })
  const lines = async (n: number): Promise<Row[]> => {
    for (;;) {
      const got = out.split('\n').filter(Boolean)
      if (got.length >= n) return got.map((l) => JSON.parse(l) as Row)
      await new Promise<void>((resolve) => waiting.push(resolve))
    }
  }
  assert.equal((await lines(1))[0]!.event, 'client.created')
  await generateClient(dataDir, ['--name', 'second'])
  const after = await lines(2)
  assert.equal(after[1]!.event, 'client.created')
  assert.equal((after[1]!.detail as {name: string}).name, 'second')
  child.kill('SIGINT')
})

test('token requests can be rate-limited per client (opt-in), answered 429 and audited', async (t) => {
  const s = await startInProcess(t, {tokenRateLimit: 100})
  const strict = await s.client({name: 'strict', tokenRateLimit: 2})
  const normal = await s.client({name: 'normal'})
  await fetchToken(s.issuer, strict)
  await fetchToken(s.issuer, strict)
  const limited = await fetch(`${s.issuer}/oauth/token`, {
    method: 'POST',
    headers: {Authorization: basic(strict.client_id, strict.client_secret), 'Content-Type': 'application/x-www-form-urlencoded'},
    body: 'grant_type=client_credentials',
  })
  assert.equal(limited.status, 429)
  assert.ok(Number(limited.headers.get('retry-after')) >= 1)
  // Nobody else slows down.
  for (let i = 0; i < 5; i++) await fetchToken(s.issuer, normal)
  s.clock.advance(60_000)
  await fetchToken(s.issuer, strict)
  await s.server.close()
  const events = await s.store.audit.query({clientId: strict.client_id})
  assert.deepEqual(events.filter((e) => e.event.startsWith('token.')).map((e) => e.outcome), ['ok', 'ok', 'rate_limited', 'ok'])
})

test('the audit writer batches, survives a failing store, bounds its buffer and prunes by age', async (t) => {
  const clock = manualClock()
  const store = openSqliteStore(tempDir(t), {clock})
  t.after(() => store.close())
  const logger = memoryLogger()
  const log = createAuditLog({store, clock, logger, flushIntervalMs: 60_000, maxBuffered: 3, retentionDays: 1})
  for (let i = 0; i < 5; i++) log.record({event: 'mcp.request', clientId: 'c', method: 'tools/call', name: `t${i}`, outcome: 'ok'})
  await log.flush()
  const rows = await store.audit.query({})
  assert.deepEqual(rows.filter((r) => r.event === 'mcp.request').map((r) => r.name), ['t2', 't3', 't4'], 'oldest dropped beyond the bound')
  // One event in the trail says how many were dropped (the bound is 3).
  assert.deepEqual(rows.filter((r) => r.event === 'audit.dropped').map((r) => r.detail), [{count: 2, bound: 3}])
  assert.ok(logger.lines.some((l) => l.message.includes('dropped') && l.fields.count === 2))
  assert.equal(log.backlog().dropped, 0)
  assert.equal(log.backlog().droppedTotal, 2)
  clock.advance(2 * 86_400_000)
  log.record({event: 'mcp.request', clientId: 'c', outcome: 'ok'})
  await log.flush()
  assert.equal(await log.prune(), 4)
  assert.equal((await store.audit.query({})).length, 1)
  await log.close()
})
