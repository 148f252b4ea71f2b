/**
 * Scenario 7 (issue 14): token issuance with the PostgreSQL store beside SQLite, server CPU per
 * token with the database server's CPU counted (the postgres processes' CPU from /proc), and the
 * time from a CLI revocation's exit to the first refusal on another node (p99).
 */
import {randomBytes} from 'node:crypto'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'
import {startPostgres, type PostgresServer} from '../../test/helpers/postgres.js'
import {NODE} from '../lib/paths.js'
import {freePort, runSync, start, waitForPort} from '../lib/proc.js'
import {cpuSeconds, treePids} from '../lib/proctree.js'
import {fmt, otherLoad, quietRound, target, throughputCells, type Context, type ScenarioResult} from '../lib/report.js'
import {summarize} from '../lib/stats.js'
import {tokenLoad, type TokenRun} from '../lib/token-load.js'
import {BIN, ensureBuilt, gatehouseTokens, newDataDir, TOKEN_BODY, TOKEN_PATH, tokenHeaders, type Credentials} from '../systems/gatehouse.js'
import type {TokenServer} from '../systems/types.js'

const CONCURRENCY = 50

interface Shared {
  env: NodeJS.ProcessEnv
}

function cli(shared: Shared, bin: string, args: string[]): string {
  const r = runSync(NODE, [BIN(bin), ...args, '--data-dir', newDataDir()], {env: shared.env})
  if (r.status !== 0) throw new Error(`${bin} failed: ${r.stderr.trim()}`)
  return r.stdout
}

async function pgDaemon(shared: Shared): Promise<{port: number; pid: number; stop(): Promise<void>}> {
  ensureBuilt()
  const port = await freePort()
  const proc = start(NODE, [BIN('oauth-server'), '--port', String(port), '--host', '127.0.0.1', '--data-dir', newDataDir(), '--issuer', 'http://127.0.0.1:1'], {env: shared.env})
  await waitForPort(port, proc, 30000)
  return {port, pid: proc.pid, stop: () => proc.stop()}
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

async function infoStatus(port: number, token: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/oauth/info`, {headers: {authorization: `Bearer ${token}`}})
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

    // A client revoked with the CLI, refused by the other node: from the CLI's exit to the first 401.
    ctx.log(`${revocations} revocations: CLI exit to the first refusal on the other node`)
    for (let i = 0; i < revocations; i++) {
      const c = JSON.parse(cli(shared, 'oauth-generate-client', ['--name', `revoke-${i}`, '--json'])) as Credentials
      const res = await fetch(`http://127.0.0.1:${a.port}${TOKEN_PATH}`, {method: 'POST', headers: tokenHeaders(c), body: TOKEN_BODY})
      const token = ((await res.json()) as {access_token: string}).access_token
      if ((await infoStatus(b.port, token)) !== 200) throw new Error('node b refused a fresh token of node a')
      cli(shared, 'oauth-revoke-client', [c.client_id, '--yes'])
      const exited = performance.now()
      while ((await infoStatus(b.port, token)) === 200) {
        if (performance.now() - exited > 10_000) throw new Error('a revocation was not enforced within 10 s')
      }
      latencies.push(performance.now() - exited)
    }
  } finally {
    for (const stop of stops) await stop().catch(() => {})
    await pg.stop()
  }
  const median = (rs: Row[]) => [...rs].sort((x, y) => x.rps - y.rps)[Math.floor(rs.length / 2)]!
  const best = new Map([...runs].map(([n, rs]) => [n, median(rs)]))
  const lat = summarize(latencies)
  const onPg = best.get('gatehouse postgresql')!
  const onSqlite = best.get('gatehouse sqlite')!
  notes.push('server CPU on PostgreSQL = the daemon tree plus every postgres process (from /proc), per token; the database is not pinned to the server core')
  notes.push('revocation latency: the other node polls /oauth/info with the revoked client\'s token as fast as it answers; measured from the CLI process\'s exit')
  for (const [name, x] of best) if (x.firstError) notes.push(`${name} first error: ${x.firstError}`)
  if ([...best.values()].some((x) => otherLoad(x) > 0.1)) notes.unshift('WARNING: other processes used CPU during the runs; figures are depressed')
  return {
    id: '7',
    title: `Several nodes: token issuance on PostgreSQL beside SQLite (${CONCURRENCY} connections), revocation across nodes`,
    tables: [
      {
        title: 'tokens',
        columns: ['store', 'tokens/s', 'p50 ms', 'p99 ms', 'errors', 'server CPU µs/token (db included)', 'tokens per core-second', 'server core', 'loadgen core', 'other load', 'db CPU µs/token'],
        rows: [...best].map(([name, x]) => [name, ...throughputCells(x, x.cpuPerToken), fmt.us(x.dbCpuPerToken)]),
      },
      {
        title: 'revocation reaching another node',
        columns: ['revocations', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'],
        rows: [[String(latencies.length), fmt.ms(lat.p50), fmt.ms(lat.p90), fmt.ms(lat.p99), fmt.ms(lat.max)]],
      },
    ],
    notes,
    targets: [
      target('7', 'revoked client refused on another node, p99', '< 1 s', lat.p99, (v) => v < 1000, (v) => `${fmt.ms(v)} ms`),
      target('7', 'postgresql tokens/s vs sqlite', '>= 0.8x', onPg.rps / onSqlite.rps, (v) => v >= 0.8, (v) => `${v.toFixed(2)}x`),
    ],
    data: {concurrency: CONCURRENCY, rounds, durationMs, runs: Object.fromEntries(runs), revocationMs: latencies},
  }
}
