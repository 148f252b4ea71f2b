import {gatehouseTokens} from '../systems/gatehouse.js'
import {httpFloor, signingFloor} from '../systems/floors.js'
import type {System, TokenServer} from '../systems/types.js'
import {tokenLoad, type TokenRun} from '../lib/token-load.js'
import {EXTERNAL_GENERATORS, type ExternalGenerator, type ExternalRun} from '../lib/external-loadgen.js'
import {median} from '../lib/stats.js'
import {fmt, noiseNote, otherLoad, quietRound, target, withNoise, type Context, type ScenarioResult, type Target} from '../lib/report.js'

const CONNECTIONS = 50
const LOADGEN = 'loadgen.ts'

interface Row {
  server: string
  generator: string
  requests: number
  rps: number
  p99: number
  errors: number
  cpuPerRequest: number
  serverCpu: number
  loadgenCpu: number
  other: number
}

/**
 * The load generator checked (issue 15): the same token server driven by `lib/loadgen.ts` and by
 * autocannon (and wrk where installed), alternating; server CPU per request must agree within 10%.
 * If it did not, the figures of every scenario would depend on the client and not on the server.
 */
export async function checkLoadgen(ctx: Context): Promise<ScenarioResult> {
  const rounds = ctx.quick ? 1 : 3
  const durationS = ctx.quick ? 3 : 5
  const notes: string[] = []
  const generators: ExternalGenerator[] = []
  for (const g of EXTERNAL_GENERATORS) {
    const why = g.unavailable()
    if (why) notes.push(`${g.name}: ${why}`)
    else generators.push(g)
  }
  const systems: System<TokenServer>[] = [httpFloor, signingFloor, gatehouseTokens]
  const rows: Row[] = []
  const targets: Target[] = []
  const data: Record<string, unknown> = {}
  for (const sys of systems) {
    const why = sys.unavailable()
    if (why) {
      notes.push(`${sys.name}: ${why}`)
      continue
    }
    ctx.log(`starting ${sys.name}`)
    const server = await sys.start()
    const ours: TokenRun[] = []
    const theirs = new Map<string, ExternalRun[]>(generators.map((g) => [g.name, []]))
    try {
      for (let r = 0; r < rounds; r++) {
        ctx.log(`round ${r + 1}/${rounds}: ${sys.name}, ${LOADGEN}`)
        const warmupMs = r === 0 ? 2000 : 0
        ours.push(await quietRound(ctx, `${sys.name} / ${LOADGEN}`, () => tokenLoad(server, {concurrency: CONNECTIONS, durationMs: durationS * 1000, warmupMs})))
        for (const g of generators) {
          ctx.log(`round ${r + 1}/${rounds}: ${sys.name}, ${g.name}`)
          theirs.get(g.name)!.push(await quietRound(ctx, `${sys.name} / ${g.name}`, async () => g.run(server, {connections: CONNECTIONS, durationS})))
        }
      }
    } finally {
      await server.stop()
    }
    const pick = <T>(runs: T[], key: (x: T) => number): T => [...runs].sort((a, b) => key(a) - key(b))[(runs.length - 1) >> 1]!
    const o = pick(ours, (x) => x.cpuPerToken)
    rows.push({server: sys.name, generator: LOADGEN, requests: o.ok, rps: o.rps, p99: o.p99, errors: o.errors, cpuPerRequest: o.cpuPerToken, serverCpu: o.serverCpu, loadgenCpu: o.loadgenCpu, other: otherLoad(o)})
    for (const [name, runs] of theirs) {
      const x = pick(runs, (y) => y.cpuPerRequest)
      rows.push({server: sys.name, generator: name, requests: x.requests, rps: x.rps, p99: x.p99, errors: x.errors + x.non2xx, cpuPerRequest: x.cpuPerRequest, serverCpu: x.serverCpu, loadgenCpu: x.loadgenCpu, other: otherLoad(x)})
      // Per round: ours / theirs, then the median over rounds.
      const ratio = median(ours.map((y, i) => y.cpuPerToken / runs[i]!.cpuPerRequest))
      const t = target(
        '7',
        `server CPU per request, ${LOADGEN} vs ${name}, ${sys.name}`,
        'within 10%',
        ratio,
        (v) => Math.abs(v - 1) <= 0.1,
        (v) => `${v.toFixed(2)}x (${fmt.us(o.cpuPerToken)} / ${fmt.us(x.cpuPerRequest)} µs)`,
        '15',
      )
      targets.push(withNoise(t, [...ours, ...runs]))
    }
    data[sys.name] = {ours, theirs: Object.fromEntries(theirs)}
  }
  const noise = noiseNote(rows.map((r) => ({name: `${r.server} / ${r.generator}`, other: r.other})))
  if (noise) notes.unshift(noise)
  notes.push(
    `${CONNECTIONS} connections, POST of the token request (client_credentials, Basic) to each server; ${rounds > 1 ? `${rounds} alternating rounds of ${durationS} s, each row the round with the median CPU per request, the ratio the median of per-round ratios` : `one round of ${durationS} s per generator`}`,
    `${LOADGEN} checks every response (200, a JWT, token_type Bearer); autocannon and wrk only count status codes: a non-2xx answer counts as an error`,
    'each generator runs pinned to the load generator core; "loadgen core" is its own CPU (autocannon and wrk: read from this process\'s children CPU time around the run)',
  )
  return {
    id: '7',
    title: `Load generator check (${LOADGEN} against ${generators.map((g) => g.name).join(' and ') || 'nothing: no external generator installed'})`,
    tables: [
      {
        title: 'server CPU per request by load generator',
        columns: ['server', 'generator', 'requests', 'req/s', 'p99 ms', 'errors', 'server CPU µs/request', 'server core', 'loadgen core', 'other load'],
        rows: rows.map((r) => [r.server, r.generator, fmt.int(r.requests), fmt.int(r.rps), fmt.ms(r.p99), fmt.int(r.errors), fmt.us(r.cpuPerRequest), fmt.pct(r.serverCpu), fmt.pct(r.loadgenCpu), r.other.toFixed(2)]),
      },
    ],
    notes,
    targets,
    data,
  }
}
