import {gatehouseTokens} from '../systems/gatehouse.js'
import {oidcProvider} from '../systems/oidc-provider.js'
import {httpFloor, signingFloor, HTTP_FLOOR, SIGNING_FLOOR} from '../systems/floors.js'
import type {TokenServer, System} from '../systems/types.js'
import {probeToken, tokenLoad, type TokenRun} from '../lib/token-load.js'
import {median, medianRatio, medianRound} from '../lib/stats.js'
import {floorTarget, withNoise, fmt, noiseNote, otherLoad, quietRound, target, throughputCells, type Context, type ScenarioResult} from '../lib/report.js'

const CONCURRENCY = 50

export async function tokens(ctx: Context): Promise<ScenarioResult> {
  const rounds = ctx.quick ? 1 : 3
  const durationMs = ctx.quick ? 3000 : 6000
  const warmupMs = ctx.quick ? 3000 : 4000
  const systems: System<TokenServer>[] = [httpFloor, signingFloor, gatehouseTokens, oidcProvider]
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
  const best = new Map([...runs].map(([name, rs]) => [name, medianRound(rs, (x) => x.cpuPerToken)]))
  const oidc = best.get('oidc-provider')?.rps ?? Number.NaN
  const gh = best.get('gatehouse')
  const cpuOf = (name: string) => (runs.get(name) ?? []).map((x) => x.cpuPerToken)
  // Ratio to a floor: the median over rounds of (system / floor) measured in the same round.
  const vs = (name: string, floor: string) => medianRatio(cpuOf(name), cpuOf(floor))
  const rows = [...best].map(([name, x]) => [
    name,
    ...throughputCells(x, x.cpuPerToken),
    `${String(probes.get(name)?.alg)}/${String(probes.get(name)?.typ)}`,
    name === HTTP_FLOOR ? '-' : fmt.ratio(vs(name, HTTP_FLOOR), 1),
    name === HTTP_FLOOR || name === SIGNING_FLOOR ? '-' : fmt.ratio(vs(name, SIGNING_FLOOR), 1),
    fmt.ratio(x.rps, oidc),
  ])
  notes.push(
    `floors: ${HTTP_FLOOR} answers a fixed token-sized JSON body; the ${SIGNING_FLOOR} does one SHA-256 (of the Basic credentials) and one ES256 signature (node:crypto) of a fresh JWT per request (fixtures/floor-server.mjs); "CPU vs" columns are the median over rounds of the ratio of server CPU per token within the same round`,
  )
  notes.push('tokens per core-second = 1e6 / server CPU µs per token: what one fully available core would sustain, the figure least disturbed by other load on the machine')
  if (rounds > 1) notes.push(`each row is, of ${rounds} alternating rounds of ${durationMs / 1000} s (after ${warmupMs / 1000} s warm-up), the round with the median server CPU per token; the p99 target is the median of the rounds' p99`)
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
        columns: ['system', 'tokens/s', 'p50 ms', 'p99 ms', 'errors', 'server CPU µs/token', 'tokens per core-second', 'server core', 'loadgen core', 'other load', 'alg/typ', 'CPU vs node:http', 'CPU vs signing floor', 'tokens/s vs oidc-provider'],
        rows,
      },
    ],
    notes,
    targets: [
      floorTarget(
        '1',
        'gatehouse server CPU per token (client_credentials, Basic, ES256 JWT)',
        1.3,
        gh ? vs('gatehouse', SIGNING_FLOOR) : Number.NaN,
        gh?.cpuPerToken ?? Number.NaN,
        best.get(SIGNING_FLOOR)?.cpuPerToken ?? Number.NaN,
        'signing floor',
      ),
      target('1', `gatehouse token p99 at ${CONCURRENCY} connections`, '< 10 ms', median(runs.get('gatehouse')?.map((x) => x.p99) ?? []), (v) => v < 10, (v) => `${fmt.ms(v)} ms`, '15'),
      target('1', 'gatehouse tokens/s vs oidc-provider', '>= 2x', gh && oidc ? gh.rps / oidc : Number.NaN, (v) => v >= 2, (v) => `${v.toFixed(2)}x`, '7'),
    ].map((t) => withNoise(t, [...runs.values()].flat())),
    data: {concurrency: CONCURRENCY, rounds, durationMs, runs: Object.fromEntries(runs), probes: Object.fromEntries(probes)},
  }
}
