import {GATEWAYS, BRIDGES} from '../lib/gateways.js'
import type {Gateway, System} from '../systems/types.js'
import {pool, post} from '../lib/http.js'
import {McpHttpSession} from '../lib/mcp-http.js'
import {StdioMcp} from '../lib/stdio-client.js'
import {CHILDREN, type ChildSpec} from '../lib/children.js'
import {bridgeFloor, BRIDGE_FLOOR} from '../systems/floors.js'
import {runLoad, type LoadResult} from '../lib/loadgen.js'
import {cpuSeconds, treePids} from '../lib/proctree.js'
import {medianRatio, medianRound} from '../lib/stats.js'
import {
  floorTarget,
  fmt,
  noiseNote,
  notMeasured,
  otherLoad,
  quietRound,
  target,
  throughputCells,
  type Context,
  type ScenarioResult,
  type Table,
  type Target,
  withNoise,
} from '../lib/report.js'

const CONCURRENCY = 32
const DIRECT = 'direct stdio (child alone)'
const GATEHOUSE_2026 = 'gatehouse (2026-07-28, stateless)'

export interface Subject {
  name: string
  /** Root of the process tree whose CPU is counted (gateway plus child). */
  pid: number
  echo(text: string, loop: number): Promise<void>
  close(): Promise<void>
}

interface Run extends LoadResult {
  serverCpu: number
  cpuPerCall: number
  processes: number
}

export async function gatewaySubject(g: Gateway, child: ChildSpec): Promise<Subject> {
  const p = pool(g.port, CONCURRENCY)
  const s = new McpHttpSession(p, g.path, g.bearer, child)
  await s.initialize()
  await s.listTools()
  await s.echo('hello')
  return {
    name: g.name,
    pid: g.pid,
    echo: (t, loop) => s.echo(t, loop),
    close: async () => {
      await s.close()
      p.close()
      await g.stop()
    },
  }
}

/**
 * The same echo call as a stateless MCP 2026-07-28 request (no session: version, capabilities
 * and client info in `_meta`, Mcp-Method/Mcp-Name headers), on the same daemon and child as the
 * 2025 session subject.
 */
export async function modernSubject(g: Gateway, child: ChildSpec): Promise<Subject> {
  const p = pool(g.port, CONCURRENCY)
  const V = '2026-07-28'
  const meta = {'io.modelcontextprotocol/protocolVersion': V, 'io.modelcontextprotocol/clientInfo': {name: 'gatehouse-bench', version: '1.0.0'}, 'io.modelcontextprotocol/clientCapabilities': {}}
  const headers = {accept: 'application/json, text/event-stream', 'content-type': 'application/json', authorization: `Bearer ${g.bearer}`, 'mcp-protocol-version': V, 'mcp-method': 'tools/call', 'mcp-name': 'echo'}
  let id = 1
  const echo = async (text: string, loop: number) => {
    const r = await post(p.conn(loop), g.path, headers, JSON.stringify({jsonrpc: '2.0', id: id++, method: 'tools/call', params: {name: 'echo', arguments: child.args(text), _meta: meta}}))
    const got = r.status === 200 ? (JSON.parse(r.text) as {result?: {content?: Array<{text?: string}>}}).result?.content?.[0]?.text : undefined
    if (got !== child.expected(text)) throw new Error(`2026 tools/call echo: HTTP ${r.status} ${r.text.slice(0, 200)}`)
  }
  await echo('hello', 0)
  return {name: GATEHOUSE_2026, pid: g.pid, echo, close: async () => p.close()}
}

/** The child driven directly over stdio by the benchmark: what the child alone costs per call. */
async function stdioSubject(child: ChildSpec): Promise<Subject> {
  const c = new StdioMcp(child.argv[0]!, child.argv.slice(1), child)
  await c.initialize()
  await c.listTools()
  await c.echo('hello')
  return {name: DIRECT, pid: c.proc.pid, echo: (t) => c.echo(t), close: () => c.stop()}
}

async function measure(s: Subject, concurrency: number, durationMs: number, warmupMs: number, maxRequests: number): Promise<Run> {
  const op = (loop: number, seq: number) => s.echo(`m${loop}-${seq}`, loop)
  if (warmupMs > 0) await runLoad({concurrency, durationMs: warmupMs, maxRequests: 1e6, op})
  const pids = treePids(s.pid)
  const c0 = cpuSeconds(pids)
  const r = await runLoad({concurrency, durationMs, maxRequests, op})
  const cpu = cpuSeconds(pids) - c0
  return {...r, serverCpu: cpu / r.seconds, cpuPerCall: r.ok ? (cpu / r.ok) * 1e6 : Number.NaN, processes: pids.length}
}

interface ChildResult {
  tables: Table[]
  notes: string[]
  targets: Target[]
  data: Record<string, unknown>
}

/** Every gateway and the floors in front of one child, alternating rounds. */
async function withChild(ctx: Context, child: ChildSpec): Promise<ChildResult> {
  const rounds = ctx.quick ? 1 : 3
  const durationMs = ctx.quick ? 3000 : 5000
  const warmupMs = ctx.quick ? 2000 : 3000
  const latencyCalls = ctx.quick ? 500 : 3000
  const notes: string[] = []
  const subjects: Subject[] = []
  const tput = new Map<string, Run[]>()
  const lat = new Map<string, Run>()
  const systems: System<Gateway>[] = [bridgeFloor, ...GATEWAYS]
  try {
    ctx.log(`${child.name}: starting direct stdio`)
    subjects.push(await stdioSubject(child))
    for (const sys of systems) {
      const why = sys.unavailable()
      if (why) {
        notes.push(`${sys.name}: ${why}`)
        continue
      }
      ctx.log(`${child.name}: starting ${sys.name}`)
      const g = await sys.start({child})
      // Gatehouse's 2026 path shares the daemon (and its child) with its 2025 session subject,
      // and is closed before it (the 2025 subject stops the daemon).
      const modern = g.name === 'gatehouse' ? await modernSubject(g, child) : undefined
      if (modern) subjects.push(modern)
      subjects.push(await gatewaySubject(g, child))
    }
    for (const s of subjects) tput.set(s.name, [])
    for (let r = 0; r < rounds; r++) {
      for (const s of subjects) {
        ctx.log(`${child.name}: round ${r + 1}/${rounds}: ${s.name}, ${CONCURRENCY} in flight, ${durationMs} ms`)
        tput.get(s.name)!.push(await quietRound(ctx, s.name, () => measure(s, CONCURRENCY, durationMs, warmupMs, durationMs * 100)))
      }
    }
    for (const s of subjects) {
      ctx.log(`${child.name}: latency: ${s.name}, ${latencyCalls} calls one at a time`)
      lat.set(s.name, await measure(s, 1, 15000, 0, latencyCalls))
    }
  } finally {
    for (const s of subjects) await s.close().catch(() => {})
  }
  const best = new Map([...tput].map(([n, rs]) => [n, medianRound(rs, (x) => x.cpuPerCall)]))
  const bridgeBest = Math.max(...BRIDGES.map((b) => best.get(b)?.rps ?? Number.NaN).filter(Number.isFinite))
  const cpuOf = (name: string) => (tput.get(name) ?? []).map((x) => x.cpuPerCall)
  const vsFloor = (name: string) => medianRatio(cpuOf(name), cpuOf(BRIDGE_FLOOR))
  const gh = best.get('gatehouse')
  const floor = best.get(BRIDGE_FLOOR)
  const rows = [...best].map(([name, x]) => [
    name,
    ...throughputCells(x, x.cpuPerCall),
    String(x.processes),
    name === DIRECT || name === BRIDGE_FLOOR ? '-' : fmt.ratio(vsFloor(name), 1),
    name === DIRECT || name === BRIDGE_FLOOR ? '-' : fmt.ratio(x.rps, bridgeBest),
  ])
  const latRows = [...lat].map(([name, x]) => [name, fmt.us(x.p50 * 1000), fmt.us(x.p90 * 1000), fmt.us(x.p99 * 1000), fmt.int(x.errors), fmt.us(x.cpuPerCall)])
  const noise = noiseNote([...tput].flatMap(([name, rs]) => rs.map((x) => ({name, other: otherLoad(x)}))))
  if (noise) notes.unshift(noise)
  for (const [name, x] of best) if (x.firstError) notes.push(`${name} first error: ${x.firstError}`)
  for (const [name, x] of lat) if (x.firstError) notes.push(`${name} (latency) first error: ${x.firstError}`)
  const targets: Target[] = [
    floorTarget(
      '2',
      `gatehouse call in an open 2025 session, ${child.name} child (child included)`,
      1.5,
      gh ? vsFloor('gatehouse') : Number.NaN,
      gh?.cpuPerCall ?? Number.NaN,
      floor?.cpuPerCall ?? Number.NaN,
      BRIDGE_FLOOR,
    ),
    floorTarget(
      '2',
      `gatehouse 2026-07-28 stateless call, ${child.name} child (child included)`,
      1.5,
      best.get(GATEHOUSE_2026) ? vsFloor(GATEHOUSE_2026) : Number.NaN,
      best.get(GATEHOUSE_2026)?.cpuPerCall ?? Number.NaN,
      floor?.cpuPerCall ?? Number.NaN,
      BRIDGE_FLOOR,
    ),
    target('13', `gatehouse 2026-07-28 call CPU vs its 2025 session call, ${child.name} child`, '<= 1x', medianRatio(cpuOf(GATEHOUSE_2026), cpuOf('gatehouse')), (v) => v <= 1, (v) => `${v.toFixed(2)}x`, '13'),
  ]
  if (child.name === 'echo') {
    targets.push(target('2', 'gatehouse calls/s vs best bridge, echo child', '>= 5x', gh ? gh.rps / bridgeBest : Number.NaN, (v) => v >= 5, (v) => `${v.toFixed(2)}x`, '7'))
  }
  const noisy = targets.map((t) => withNoise(t, [...tput.values()].flat()))
  return {
    tables: [
      {
        title: `${child.name} child: throughput, ${CONCURRENCY} concurrent calls in one session`,
        columns: ['system', 'calls/s', 'p50 ms', 'p99 ms', 'errors', 'server CPU µs/call', 'calls per core-second', 'server core', 'loadgen core', 'other load', 'processes', 'CPU vs bridge floor', 'calls/s vs best bridge'],
        rows,
      },
      {title: `${child.name} child: latency, one call at a time`, columns: ['system', 'p50 µs', 'p90 µs', 'p99 µs', 'errors', 'server CPU µs/call'], rows: latRows},
    ],
    notes: notes.map((n) => `${child.name} child: ${n}`),
    targets: noisy,
    data: {rounds, durationMs, throughput: Object.fromEntries(tput), latency: Object.fromEntries(lat)},
  }
}

export async function toolCall(ctx: Context): Promise<ScenarioResult> {
  const tables: Table[] = []
  const notes: string[] = []
  const targets: Target[] = []
  const data: Record<string, unknown> = {concurrency: CONCURRENCY}
  for (const child of CHILDREN) {
    const why = child.unavailable()
    if (why) {
      notes.push(`${child.name} child: ${why}`)
      targets.push(notMeasured('2', `gatehouse call in an open 2025 session, ${child.name} child`, `<= 1.5x ${BRIDGE_FLOOR}`, why))
      continue
    }
    const r = await withChild(ctx, child)
    tables.push(...r.tables)
    notes.push(...r.notes)
    targets.push(...r.targets)
    data[child.name] = r.data
  }
  const quick = ctx.quick
  notes.push(
    quick
      ? `throughput: one round of 3 s after 2 s warm-up, ${CONCURRENCY} concurrent calls into one session`
      : `throughput: 3 alternating rounds of 5 s after 3 s warm-up, ${CONCURRENCY} concurrent calls into one session; each row is the round with the median server CPU per call`,
    `children: ${CHILDREN.map((c) => `${c.name} = ${c.label}`).join('; ')}`,
    `${DIRECT}: the benchmark drives the child over stdio itself; its CPU is the child's alone`,
    `${BRIDGE_FLOOR}: node:http plus one stdio round trip to the same child per call (fixtures/floor-server.mjs: parse the message, one NDJSON line to the child, its reply line as the body; no authorization, no id rewriting); CPU counts it and the child`,
    'server CPU counts the whole process tree (gateway plus child) from /proc/<pid>/stat utime+stime; every echoed text is checked',
    '"CPU vs bridge floor" is the median over rounds of the ratio of server CPU per call within the same round; the best bridge is the faster of supergateway and mcp-proxy',
  )
  return {id: '2', title: 'Gated tool call (echo tool of a stdio server)', tables, notes, targets, data}
}
