import {GATEWAYS, BRIDGES} from '../lib/gateways.js'
import type {Gateway} from '../systems/types.js'
import {pool, post} from '../lib/http.js'
import {McpHttpSession} from '../lib/mcp-http.js'
import {StdioMcp} from '../lib/stdio-client.js'
import {ECHO_ARGV} from '../lib/paths.js'
import {runLoad, type LoadResult} from '../lib/loadgen.js'
import {cpuSeconds, treePids} from '../lib/proctree.js'
import {medianRound} from '../lib/stats.js'
import {fmt, noiseNote, otherLoad, quietRound, target, throughputCells, type Context, type ScenarioResult} from '../lib/report.js'

const CONCURRENCY = 32

interface Subject {
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

async function gatewaySubject(g: Gateway): Promise<Subject> {
  const p = pool(g.port, CONCURRENCY)
  const s = new McpHttpSession(p, g.path, g.bearer)
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
 * and client info in `_meta`, Mcp-Method/Mcp-Name headers), beside the 2025 session above.
 */
async function modernSubject(g: Gateway): Promise<Subject> {
  const p = pool(g.port, CONCURRENCY)
  const V = '2026-07-28'
  const meta = {'io.modelcontextprotocol/protocolVersion': V, 'io.modelcontextprotocol/clientInfo': {name: 'gatehouse-bench', version: '1.0.0'}, 'io.modelcontextprotocol/clientCapabilities': {}}
  const headers = {accept: 'application/json, text/event-stream', 'content-type': 'application/json', authorization: `Bearer ${g.bearer}`, 'mcp-protocol-version': V, 'mcp-method': 'tools/call', 'mcp-name': 'echo'}
  let id = 1
  const echo = async (text: string, loop: number) => {
    const r = await post(p.conn(loop), g.path, headers, JSON.stringify({jsonrpc: '2.0', id: id++, method: 'tools/call', params: {name: 'echo', arguments: {text}, _meta: meta}}))
    const got = r.status === 200 ? (JSON.parse(r.text) as {result?: {content?: Array<{text?: string}>}}).result?.content?.[0]?.text : undefined
    if (got !== text) throw new Error(`2026 tools/call echo: HTTP ${r.status} ${r.text.slice(0, 200)}`)
  }
  await echo('hello', 0)
  return {name: `${g.name} (2026-07-28, stateless)`, pid: g.pid, echo, close: async () => p.close()}
}

async function stdioSubject(): Promise<Subject> {
  const c = new StdioMcp(ECHO_ARGV[0]!, ECHO_ARGV.slice(1))
  await c.initialize()
  await c.listTools()
  await c.echo('hello')
  return {name: 'direct stdio (floor)', pid: c.proc.pid, echo: (t) => c.echo(t), close: () => c.stop()}
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

export async function toolCall(ctx: Context): Promise<ScenarioResult> {
  const rounds = ctx.quick ? 1 : 3
  const durationMs = ctx.quick ? 3000 : 5000
  const warmupMs = ctx.quick ? 2000 : 3000
  const latencyCalls = ctx.quick ? 1000 : 3000
  const notes: string[] = []
  const subjects: Subject[] = []
  const tput = new Map<string, Run[]>()
  const lat = new Map<string, Run>()
  try {
    ctx.log('starting direct stdio')
    subjects.push(await stdioSubject())
    for (const sys of GATEWAYS) {
      const why = sys.unavailable()
      if (why) {
        notes.push(`${sys.name}: ${why}`)
        continue
      }
      ctx.log(`starting ${sys.name}`)
      const g = await sys.start()
      // Gatehouse's 2026 path shares the daemon (and its child) with its 2025 session subject.
      const modern = g.name === 'gatehouse' ? await modernSubject(g) : undefined
      subjects.push(await gatewaySubject(g))
      if (modern) subjects.push(modern)
    }
    for (const s of subjects) tput.set(s.name, [])
    for (let r = 0; r < rounds; r++) {
      for (const s of subjects) {
        ctx.log(`round ${r + 1}/${rounds}: ${s.name}, ${CONCURRENCY} in flight, ${durationMs} ms`)
        tput.get(s.name)!.push(await quietRound(ctx, s.name, () => measure(s, CONCURRENCY, durationMs, warmupMs, durationMs * 100)))
      }
    }
    for (const s of subjects) {
      ctx.log(`latency: ${s.name}, ${latencyCalls} calls one at a time`)
      lat.set(s.name, await measure(s, 1, 15000, 0, latencyCalls))
    }
  } finally {
    for (const s of subjects) await s.close().catch(() => {})
  }
  const best = new Map([...tput].map(([n, rs]) => [n, medianRound(rs, (x) => x.rps)]))
  const bridgeBest = Math.max(...BRIDGES.map((b) => best.get(b)?.rps ?? Number.NaN).filter(Number.isFinite))
  const gh = best.get('gatehouse')
  const rows = [...best].map(([name, x]) => [
    name,
    ...throughputCells(x, x.cpuPerCall),
    String(x.processes),
    name.startsWith('direct') ? '-' : fmt.ratio(x.rps, bridgeBest),
  ])
  const latRows = [...lat].map(([name, x]) => [name, fmt.us(x.p50 * 1000), fmt.us(x.p90 * 1000), fmt.us(x.p99 * 1000), fmt.int(x.errors), fmt.us(x.cpuPerCall)])
  notes.push(
    rounds > 1
      ? `throughput: median of ${rounds} alternating rounds of ${durationMs / 1000} s after ${warmupMs / 1000} s warm-up, ${CONCURRENCY} concurrent calls into one session`
      : `throughput: one round of ${durationMs / 1000} s after ${warmupMs / 1000} s warm-up, ${CONCURRENCY} concurrent calls into one session`,
    'server CPU counts the whole process tree (gateway plus child) from /proc/<pid>/stat utime+stime; every echoed text is checked',
    'the best bridge is the faster of supergateway and mcp-proxy; calls per core-second = 1e6 / server CPU µs per call (gateway and child share core 0)',
  )
  const noise = noiseNote([...tput].flatMap(([name, rs]) => rs.map((x) => ({name, other: otherLoad(x)}))))
  if (noise) notes.unshift(noise)
  for (const [name, x] of best) if (x.firstError) notes.push(`${name} first error: ${x.firstError}`)
  for (const [name, x] of lat) if (x.firstError) notes.push(`${name} (latency) first error: ${x.firstError}`)
  return {
    id: '2',
    title: 'Gated tool call (echo tool of a stdio server)',
    tables: [
      {
        title: `throughput, ${CONCURRENCY} concurrent calls in one session`,
        columns: ['system', 'calls/s', 'p50 ms', 'p99 ms', 'errors', 'server CPU µs/call', 'calls per core-second', 'server core', 'loadgen core', 'other load', 'processes', 'vs best bridge'],
        rows,
      },
      {title: 'latency, one call at a time', columns: ['system', 'p50 µs', 'p90 µs', 'p99 µs', 'errors', 'server CPU µs/call'], rows: latRows},
    ],
    notes,
    targets: [
      target('2', 'gatehouse calls/s vs best bridge', '>= 5x', gh ? gh.rps / bridgeBest : Number.NaN, (v) => v >= 5, (v) => `${v.toFixed(2)}x`),
      target('2', 'gatehouse server CPU per call (child included)', '<= 150 µs', gh?.cpuPerCall ?? Number.NaN, (v) => v <= 150, (v) => `${fmt.us(v)} µs`),
    ],
    data: {concurrency: CONCURRENCY, rounds, durationMs, throughput: Object.fromEntries(tput), latency: Object.fromEntries(lat)},
  }
}
