/**
 * Scenario 8, "postgres" (issue 14): token issuance and a gated tool call with the PostgreSQL
 * store beside SQLite, server CPU per operation with the database server's CPU counted (the
 * postgres processes' CPU from /proc), and the time from a CLI revocation's exit to the first
 * refusal on another node (p99).
 *
 * The gated call is scenario 2's echo call (bench echo child), both ways: in an open 2025
 * session and as a stateless 2026-07-28 request, on a daemon over SQLite and one over
 * PostgreSQL, alternating in the same run; the ratio is PostgreSQL's CPU per call (daemon, child
 * and database) over SQLite's (daemon and child: SQLite runs inside the daemon), per round.
 */
import {randomBytes} from 'node:crypto'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'
import {startPostgres, type PostgresServer} from '../../test/helpers/postgres.js'
import {NODE} from '../lib/paths.js'
import {freePort, runSync, start, waitForPort} from '../lib/proc.js'
import {cpuSeconds, treePids} from '../lib/proctree.js'
import {fmt, otherLoad, quietRound, target, throughputCells, withNoise, type Context, type ScenarioResult} from '../lib/report.js'
import {summarize} from '../lib/stats.js'
import {tokenLoad, type TokenRun} from '../lib/token-load.js'
import {runLoad, type LoadResult} from '../lib/loadgen.js'
import {ECHO_CHILD} from '../lib/children.js'
import {medianRatio, medianRound} from '../lib/stats.js'
import {BIN, ensureBuilt, fetchToken, gatehouseGateway, gatehouseTokens, newDataDir, waitReady, TOKEN_BODY, TOKEN_PATH, tokenHeaders, type Credentials} from '../systems/gatehouse.js'
import type {Gateway, TokenServer} from '../systems/types.js'
import {gatewaySubject, modernSubject, type Subject} from './2-toolcall.js'

const CONCURRENCY = 50
/** Concurrent calls of the gated-call part: scenario 2's figure, so the rows compare with its. */
const CALL_CONCURRENCY = 32

interface Shared {
  env: NodeJS.ProcessEnv
}

function cli(shared: Shared, bin: string, args: string[]): string {
  const r = runSync(NODE, [BIN(bin), ...args, '--data-dir', newDataDir()], {env: shared.env})
  if (r.status !== 0) throw new Error(`${bin} failed: ${r.stderr.trim()}`)
  return r.stdout
}

async function pgDaemon(shared: Shared): Promise<{port: number; pid: number; output(): string; stop(): Promise<void>}> {
  ensureBuilt()
  const port = await freePort()
  const proc = start(NODE, [BIN('oauth-server'), '--port', String(port), '--host', '127.0.0.1', '--data-dir', newDataDir(), '--issuer', 'http://127.0.0.1:1'], {env: shared.env})
  await waitForPort(port, proc, 30000)
  await waitReady(port, proc)
  return {port, pid: proc.pid, output: () => proc.output(), stop: () => proc.stop()}
}

/** A daemon on the PostgreSQL store gating the bench echo child; the bench client's token for it. */
async function pgGateway(shared: Shared, creds: Credentials): Promise<Gateway> {
  ensureBuilt()
  const port = await freePort()
  const proc = start(NODE, [BIN('oauth-server'), '--port', String(port), '--host', '127.0.0.1', '--data-dir', newDataDir(), '--', ...ECHO_CHILD.argv], {env: shared.env})
  await waitForPort(port, proc, 30000)
  await waitReady(port, proc)
  return {name: 'gatehouse', port, pid: proc.pid, path: '/mcp', bearer: await fetchToken(port, creds), stop: () => proc.stop()}
}

interface CallRow extends LoadResult {
  /** Daemon tree (child included) plus the database's processes, cores. */
  serverCpu: number
  /** Server CPU µs per call, the database's included. */
  cpuPerCall: number
  /** The database server's share of it, µs per call (0 on SQLite). */
  dbCpuPerCall: number
}

/** One measured round of echo calls: the daemon tree's CPU and, on PostgreSQL, the database's beside it. */
async function callRound(s: Subject, pg: PostgresServer | undefined, o: {durationMs: number; warmupMs: number}): Promise<CallRow> {
  const op = (loop: number, seq: number) => s.echo(`m${loop}-${seq}`, loop)
  await runLoad({concurrency: CALL_CONCURRENCY, durationMs: o.warmupMs, maxRequests: 1e6, op})
  const pids = treePids(s.pid)
  const pgPids = pg ? treePids(pg.pid) : []
  const [c0, d0] = [cpuSeconds(pids), cpuSeconds(pgPids)]
  const r = await runLoad({concurrency: CALL_CONCURRENCY, durationMs: o.durationMs, maxRequests: o.durationMs * 100, op})
  const [cpu, db] = [cpuSeconds(pids) - c0, cpuSeconds(pgPids) - d0]
  return {...r, serverCpu: (cpu + db) / r.seconds, cpuPerCall: r.ok ? ((cpu + db) / r.ok) * 1e6 : Number.NaN, dbCpuPerCall: r.ok ? (db / r.ok) * 1e6 : Number.NaN}
}

interface Row extends TokenRun {
  /** The database server's CPU µs per token (0 for SQLite, which runs inside the daemon). */
  dbCpuPerToken: number
}

/** One measured round: the daemon tree's CPU from tokenLoad, the postgres processes' beside it. */
async function round(server: TokenServer, pg: PostgresServer | undefined, o: {durationMs: number; warmupMs: number}): Promise<Row> {
  await tokenLoad(server, {concurrency: CONCURRENCY, durationMs: o.warmupMs, warmupMs: 0})
  const pgPids = pg ? treePids(pg.pid) : []
  const c0 = cpuSeconds(pgPids)
  const r = await tokenLoad(server, {concurrency: CONCURRENCY, durationMs: o.durationMs, warmupMs: 0})
  const db = cpuSeconds(pgPids) - c0
  // The database's CPU is the server's too: counted in serverCpu and in CPU per token.
  return {...r, serverCpu: r.serverCpu + db / r.seconds, cpuPerToken: r.cpuPerToken + (r.ok ? (db / r.ok) * 1e6 : 0), dbCpuPerToken: r.ok ? (db / r.ok) * 1e6 : Number.NaN}
}

/**
 * GET /oauth/info's status. The CLI runs with spawnSync, which blocks this event loop for longer
 * than the daemon's keep-alive timeout (5 s) on a busy machine: fetch then reuses a connection
 * the daemon has closed meanwhile ("other side closed"). The GET is idempotent: asked once more
 * on a new connection.
 */
async function infoStatus(port: number, token: string, output?: () => string): Promise<number> {
  const ask = () => fetch(`http://127.0.0.1:${port}/oauth/info`, {headers: {authorization: `Bearer ${token}`}})
  const res = await ask().catch(ask).catch((error: Error) => {
    throw new Error(`GET /oauth/info on port ${port}: ${error.message} (${String((error.cause as Error | undefined)?.message ?? '')})${output ? `; the daemon printed: ${output().slice(-1500)}` : ''}`)
  })
  await res.arrayBuffer()
  return res.status
}

export async function postgresStore(ctx: Context): Promise<ScenarioResult> {
  const rounds = ctx.quick ? 1 : 3
  const durationMs = ctx.quick ? 3000 : 6000
  const warmupMs = ctx.quick ? 2000 : 4000
  const revocations = ctx.quick ? 10 : 40
  const notes: string[] = []
  const pg = await startPostgres()
  const stops: Array<() => Promise<void>> = []
  const runs = new Map<string, Row[]>([['gatehouse sqlite', []], ['gatehouse postgresql', []]])
  const latencies: number[] = []
  const callSubjects: Array<{subject: Subject; store: 'sqlite' | 'postgresql'; era: string; db: PostgresServer | undefined}> = []
  const calls = new Map<string, CallRow[]>()
  try {
    const kek = join(newDataDir(), 'kek')
    writeFileSync(kek, randomBytes(32).toString('base64') + '\n', {mode: 0o600})
    const shared: Shared = {env: {...process.env, GATEHOUSE_LOG_LEVEL: 'warn', GATEHOUSE_NO_KEYCHAIN: '1', NO_COLOR: '1', GATEHOUSE_DATABASE_URL: await pg.database('bench'), GATEHOUSE_KEY_ENCRYPTION_KEY_FILE: kek}}

    ctx.log('starting gatehouse on SQLite and two nodes on PostgreSQL')
    const sqlite = await gatehouseTokens.start()
    stops.push(sqlite.stop)
    const creds = JSON.parse(cli(shared, 'oauth-generate-client', ['--name', 'bench', '--json'])) as Credentials
    const [a, b] = [await pgDaemon(shared), await pgDaemon(shared)]
    stops.push(a.stop, b.stop)
    const onPg: TokenServer = {name: 'gatehouse postgresql', port: a.port, pid: a.pid, path: TOKEN_PATH, headers: tokenHeaders(creds), body: TOKEN_BODY, stop: a.stop}
    for (let r = 0; r < rounds; r++) {
      for (const [name, server, db] of [['gatehouse sqlite', sqlite, undefined], ['gatehouse postgresql', onPg, pg]] as const) {
        ctx.log(`round ${r + 1}/${rounds}: ${name}, ${CONCURRENCY} connections, ${durationMs} ms`)
        runs.get(name)!.push(await quietRound(ctx, name, () => round(server, db, {durationMs, warmupMs})))
      }
    }

    // The gated call: the same echo child behind a daemon on each store, 2025 session and 2026 stateless.
    ctx.log('starting gatehouse gating the echo child on SQLite and on PostgreSQL')
    const gSqlite = await gatehouseGateway.start({child: ECHO_CHILD})
    stops.push(gSqlite.stop)
    const gPg = await pgGateway(shared, creds)
    stops.push(gPg.stop)
    // The 2026 subjects share their daemon with the 2025 one; the 2025 subject's close stops the daemon.
    for (const [store, g, db] of [['sqlite', gSqlite, undefined], ['postgresql', gPg, pg]] as const) {
      for (const [era, make] of [['2025 session', gatewaySubject], ['2026 stateless', modernSubject]] as const) {
        const subject = {...(await make(g, ECHO_CHILD)), name: `${store}, ${era}`}
        callSubjects.push({subject, store, era, db})
        calls.set(subject.name, [])
      }
    }
    for (let r = 0; r < rounds; r++) {
      for (const {subject, db} of callSubjects) {
        ctx.log(`round ${r + 1}/${rounds}: echo call, ${subject.name}, ${CALL_CONCURRENCY} in flight, ${durationMs} ms`)
        calls.get(subject.name)!.push(await quietRound(ctx, subject.name, () => callRound(subject, db, {durationMs, warmupMs})))
      }
    }

    // A client revoked with the CLI, refused by the other node: from the CLI's exit to the first 401.
    ctx.log(`${revocations} revocations: CLI exit to the first refusal on the other node`)
    for (let i = 0; i < revocations; i++) {
      const c = JSON.parse(cli(shared, 'oauth-generate-client', ['--name', `revoke-${i}`, '--json'])) as Credentials
      const res = await fetch(`http://127.0.0.1:${a.port}${TOKEN_PATH}`, {method: 'POST', headers: tokenHeaders(c), body: TOKEN_BODY})
      const token = ((await res.json()) as {access_token: string}).access_token
      if ((await infoStatus(b.port, token, b.output)) !== 200) throw new Error('node b refused a fresh token of node a')
      cli(shared, 'oauth-revoke-client', [c.client_id, '--yes'])
      const exited = performance.now()
      while ((await infoStatus(b.port, token, b.output)) === 200) {
        if (performance.now() - exited > 10_000) throw new Error('a revocation was not enforced within 10 s')
      }
      latencies.push(performance.now() - exited)
    }
  } finally {
    for (const {subject} of [...callSubjects].reverse()) await subject.close().catch(() => {})
    for (const stop of stops) await stop().catch(() => {})
    await pg.stop()
  }
  const median = (rs: Row[]) => [...rs].sort((x, y) => x.rps - y.rps)[Math.floor(rs.length / 2)]!
  const best = new Map([...runs].map(([n, rs]) => [n, median(rs)]))
  const lat = summarize(latencies)
  const onPg = best.get('gatehouse postgresql')!
  const onSqlite = best.get('gatehouse sqlite')!
  notes.push('server CPU on PostgreSQL = the daemon tree plus every postgres process (from /proc), per token; the database is not pinned to the server core')
  notes.push(`gated call: scenario 2's echo tool call through the bench echo child, ${CALL_CONCURRENCY} in flight; server CPU = the daemon tree (child included) plus, on PostgreSQL, every postgres process; "CPU vs sqlite" is the median over rounds of the ratio within the same round`)
  notes.push('revocation latency: the other node polls /oauth/info with the revoked client\'s token as fast as it answers; measured from the CLI process\'s exit')
  for (const [name, x] of best) if (x.firstError) notes.push(`${name} first error: ${x.firstError}`)
  const bestCall = new Map([...calls].map(([n, rs]) => [n, medianRound(rs, (x) => x.cpuPerCall)]))
  for (const [name, x] of bestCall) if (x.firstError) notes.push(`echo call ${name} first error: ${x.firstError}`)
  const callRatio = (era: string) => medianRatio((calls.get(`postgresql, ${era}`) ?? []).map((x) => x.cpuPerCall), (calls.get(`sqlite, ${era}`) ?? []).map((x) => x.cpuPerCall))
  if ([...best.values()].some((x) => otherLoad(x) > 0.1)) notes.unshift('WARNING: other processes used CPU during the runs; figures are depressed')
  return {
    id: '8',
    title: `Several nodes: token issuance (${CONCURRENCY} connections) and a gated tool call on PostgreSQL beside SQLite, revocation across nodes`,
    tables: [
      {
        title: 'tokens',
        columns: ['store', 'tokens/s', 'p50 ms', 'p99 ms', 'errors', 'server CPU µs/token (db included)', 'tokens per core-second', 'server core', 'loadgen core', 'other load', 'db CPU µs/token'],
        rows: [...best].map(([name, x]) => [name, ...throughputCells(x, x.cpuPerToken), fmt.us(x.dbCpuPerToken)]),
      },
      {
        title: `gated tool call (echo child, ${CALL_CONCURRENCY} in flight)`,
        columns: ['store, call', 'calls/s', 'p50 ms', 'p99 ms', 'errors', 'server CPU µs/call (db included)', 'calls per core-second', 'server core', 'loadgen core', 'other load', 'db CPU µs/call', 'CPU vs sqlite'],
        rows: callSubjects.map(({subject, store, era}) => {
          const x = bestCall.get(subject.name)!
          return [subject.name, ...throughputCells(x, x.cpuPerCall), fmt.us(x.dbCpuPerCall), store === 'sqlite' ? '-' : `${callRatio(era).toFixed(2)}x`]
        }),
      },
      {
        title: 'revocation reaching another node',
        columns: ['revocations', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'],
        rows: [[String(latencies.length), fmt.ms(lat.p50), fmt.ms(lat.p90), fmt.ms(lat.p99), fmt.ms(lat.max)]],
      },
    ],
    notes,
    targets: [
      target('8', 'revoked client refused on another node, p99', '< 1 s', lat.p99, (v) => v < 1000, (v) => `${fmt.ms(v)} ms`, '14'),
      target('8', 'postgresql tokens/s vs sqlite', '>= 0.8x', onPg.rps / onSqlite.rps, (v) => v >= 0.8, (v) => `${v.toFixed(2)}x`, '14'),
      // Issue 15's target: token CPU with the PostgreSQL store (Gatehouse plus the database server) at most 1.5x SQLite's.
      withNoise(
        target('8', 'token server CPU on postgresql, db included, vs sqlite', '<= 1.5x', medianRatio((runs.get('gatehouse postgresql') ?? []).map((x) => x.cpuPerToken), (runs.get('gatehouse sqlite') ?? []).map((x) => x.cpuPerToken)), (v) => v <= 1.5, (v) => `${v.toFixed(2)}x`, '15'),
        [...runs.values()].flat(),
      ),
      ...(['2025 session', '2026 stateless'] as const).map((era) =>
        withNoise(
          target('8', `gated call (${era}) server CPU on postgresql, db included, vs sqlite`, '<= 1.25x', callRatio(era), (v) => v <= 1.25, (v) => `${v.toFixed(2)}x`, '14'),
          [...calls.values()].flat(),
        ),
      ),
    ],
    data: {concurrency: CONCURRENCY, callConcurrency: CALL_CONCURRENCY, rounds, durationMs, runs: Object.fromEntries(runs), calls: Object.fromEntries(calls), revocationMs: latencies},
  }
}
