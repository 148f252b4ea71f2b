import {gatehouseTokens} from '../systems/gatehouse.js'
import {oidcProvider} from '../systems/oidc-provider.js'
import type {TokenServer, System} from '../systems/types.js'
import {probeToken, tokenLoad, type TokenRun} from '../lib/token-load.js'
import {medianRound} from '../lib/stats.js'
import {fmt, noiseNote, otherLoad, quietRound, target, throughputCells, type Context, type ScenarioResult} from '../lib/report.js'

const CONCURRENCY = 50

export async function tokens(ctx: Context): Promise<ScenarioResult> {
  const rounds = ctx.quick ? 1 : 3
  const durationMs = ctx.quick ? 3000 : 6000
  const warmupMs = ctx.quick ? 3000 : 4000
  const systems: System<TokenServer>[] = [gatehouseTokens, oidcProvider]
  const notes: string[] = []
  const servers: TokenServer[] = []
  const runs = new Map<string, TokenRun[]>()
  const probes = new Map<string, {alg: unknown; typ: unknown}>()
  try {
    for (const s of systems) {
      const why = s.unavailable()
      if (why) {
        notes.push(`${s.name}: ${why}`)
        continue
      }
      ctx.log(`starting ${s.name}`)
      const server = await s.start()
      servers.push(server)
      probes.set(server.name, await probeToken(server))
      runs.set(server.name, [])
    }
    for (let r = 0; r < rounds; r++) {
      for (const server of servers) {
        ctx.log(`round ${r + 1}/${rounds}: ${server.name}, ${CONCURRENCY} connections, ${durationMs} ms`)
        runs.get(server.name)!.push(await quietRound(ctx, server.name, () => tokenLoad(server, {concurrency: CONCURRENCY, durationMs, warmupMs})))
      }
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()))
  }
  const best = new Map([...runs].map(([name, rs]) => [name, medianRound(rs, (x) => x.rps)]))
  const oidc = best.get('oidc-provider')?.rps ?? Number.NaN
  const gh = best.get('gatehouse')
  const rows = [...best].map(([name, x]) => [
    name,
    ...throughputCells(x, x.cpuPerToken),
    `${String(probes.get(name)?.alg)}/${String(probes.get(name)?.typ)}`,
    fmt.ratio(x.rps, oidc),
  ])
  notes.push('tokens per core-second = 1e6 / server CPU µs per token: what one fully available core would sustain, the figure least disturbed by other load on the machine')
  if (rounds > 1) notes.push(`each figure is the median of ${rounds} alternating rounds of ${durationMs / 1000} s (after ${warmupMs / 1000} s warm-up)`)
  else notes.push(`one round of ${durationMs / 1000} s per system after ${warmupMs / 1000} s warm-up`)
  const noise = noiseNote([...runs].flatMap(([name, rs]) => rs.map((x) => ({name, other: otherLoad(x)}))))
  if (noise) notes.unshift(noise)
  for (const [name, x] of best) if (x.firstError) notes.push(`${name} first error: ${x.firstError}`)
  return {
    id: '1',
    title: `Token issuance (client_credentials, client_secret_basic, ES256 JWT, ${CONCURRENCY} connections)`,
    tables: [
      {
        title: 'tokens',
        columns: ['system', 'tokens/s', 'p50 ms', 'p99 ms', 'errors', 'server CPU µs/token', 'tokens per core-second', 'server core', 'loadgen core', 'other load', 'alg/typ', 'vs oidc-provider'],
        rows,
      },
    ],
    notes,
    targets: [
      target('1', 'gatehouse tokens/s vs oidc-provider', '>= 2x', gh && oidc ? gh.rps / oidc : Number.NaN, (v) => v >= 2, (v) => `${v.toFixed(2)}x`),
      target('1', 'gatehouse tokens/s on one core', '>= 6,000', gh?.rps ?? Number.NaN, (v) => v >= 6000, fmt.int),
      target('1', 'gatehouse token p99', '< 10 ms', gh?.p99 ?? Number.NaN, (v) => v < 10, (v) => `${fmt.ms(v)} ms`),
    ],
    data: {concurrency: CONCURRENCY, rounds, durationMs, runs: Object.fromEntries(runs), probes: Object.fromEntries(probes)},
  }
}
