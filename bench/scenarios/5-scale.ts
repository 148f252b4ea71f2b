import {gatehouseTokens, gatehouseUnavailable} from '../systems/gatehouse.js'
import {populate, type PopulateCounts} from '../lib/populate.js'
import {tokenLoad, type TokenRun} from '../lib/token-load.js'
import {medianRound} from '../lib/stats.js'
import {fmt, noiseNote, otherLoad, quietRound, target, type Context, type ScenarioResult} from '../lib/report.js'
import type {TokenServer} from '../systems/types.js'

const CONCURRENCY = 50

/** Token issuance against a store holding many clients, revocations and audit rows vs an empty one. */
export async function scale(ctx: Context): Promise<ScenarioResult> {
  const counts: PopulateCounts = ctx.quick
    ? {clients: 10_000, revocations: 100_000, audit: 100_000}
    : {clients: 10_000, revocations: 1_000_000, audit: 1_000_000}
  const rounds = ctx.quick ? 1 : 3
  const durationMs = ctx.quick ? 3000 : 5000
  const warmupMs = ctx.quick ? 2000 : 3000
  const notes: string[] = []
  const why = gatehouseUnavailable()
  const runs = new Map<string, TokenRun[]>()
  let filled: {seconds: number; bytes: number} | undefined
  if (why) {
    notes.push(`gatehouse: ${why}`)
  } else {
    const servers: {label: string; s: TokenServer}[] = []
    try {
      ctx.log('starting gatehouse on an empty store')
      servers.push({label: 'empty store', s: await gatehouseTokens.start()})
      ctx.log(`starting gatehouse on a store with ${counts.clients} clients, ${counts.revocations} revocations, ${counts.audit} audit rows`)
      const full = await gatehouseTokens.start({
        prepare: (dir: string) => {
          filled = populate(dir, counts)
          ctx.log(`populated in ${filled.seconds.toFixed(1)} s (${fmt.mib(filled.bytes)} MiB)`)
        },
      })
      servers.push({label: 'populated store', s: full})
      for (const {label} of servers) runs.set(label, [])
      for (let r = 0; r < rounds; r++) {
        for (const {label, s} of servers) {
          ctx.log(`round ${r + 1}/${rounds}: ${label}`)
          runs.get(label)!.push(await quietRound(ctx, label, () => tokenLoad(s, {concurrency: CONCURRENCY, durationMs, warmupMs})))
        }
      }
    } finally {
      await Promise.all(servers.map(({s}) => s.stop()))
    }
  }
  const best = new Map([...runs].map(([k, rs]) => [k, medianRound(rs, (x) => x.rps)]))
  const empty = best.get('empty store')
  const full = best.get('populated store')
  notes.push(
    `populated: ${counts.clients.toLocaleString('en-US')} extra clients, ${counts.revocations.toLocaleString('en-US')} revoked-access-token rows, ${counts.audit.toLocaleString('en-US')} audit rows, inserted with better-sqlite3 in one transaction before the daemon starts` +
      (filled ? ` (${filled.seconds.toFixed(1)} s, ${fmt.mib(filled.bytes)} MiB)` : ''),
    `${rounds > 1 ? `median of ${rounds} alternating rounds` : 'one round'} of ${durationMs / 1000} s after ${warmupMs / 1000} s warm-up, ${CONCURRENCY} connections`,
  )
  notes.push('CPU/token vs empty compares server CPU per token, which other load on the machine disturbs least')
  if (ctx.quick) notes.push('quick run: 100,000 revocation and audit rows instead of a million')
  const noise = noiseNote([...runs].flatMap(([name, rs]) => rs.map((x) => ({name, other: otherLoad(x)}))))
  if (noise) notes.unshift(noise)
  for (const [k, x] of best) if (x.firstError) notes.push(`${k} first error: ${x.firstError}`)
  return {
    id: '5',
    title: 'Scale: token issuance with a large store',
    tables: [
      {
        title: 'gatehouse tokens',
        columns: ['store', 'tokens/s', 'p50 ms', 'p99 ms', 'errors', 'server CPU µs/token', 'other load', 'tokens/s vs empty', 'CPU/token vs empty'],
        rows: [...best].map(([k, x]) => [k, fmt.int(x.rps), fmt.ms(x.p50), fmt.ms(x.p99), fmt.int(x.errors), fmt.us(x.cpuPerToken), otherLoad(x).toFixed(2), fmt.ratio(x.rps, empty?.rps ?? Number.NaN), fmt.ratio(x.cpuPerToken, empty?.cpuPerToken ?? Number.NaN)]),
      },
    ],
    notes,
    targets: [
      target(
        '5',
        'gatehouse tokens/s, populated vs empty store',
        'within 10%',
        full && empty ? full.rps / empty.rps : Number.NaN,
        (v) => v >= 0.9,
        (v) => `${(v * 100).toFixed(0)}%`,
        '7',
      ),
    ],
    data: {counts, filled, runs: Object.fromEntries(runs)},
  }
}
