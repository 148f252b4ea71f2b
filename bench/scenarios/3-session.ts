import {GATEWAYS} from '../lib/gateways.js'
import {openSession, closeSession, spawnAndOpen} from '../lib/session-open.js'
import {summarize, type Summary} from '../lib/stats.js'
import {fmt, target, type Context, type ScenarioResult} from '../lib/report.js'
import type {Gateway} from '../systems/types.js'

/** Opening a session: initialize until the first tools/list answer. */
export async function sessionOpen(ctx: Context): Promise<ScenarioResult> {
  const n = ctx.quick ? 10 : 30
  const nNew = ctx.quick ? 5 : 10
  const notes: string[] = []
  const rows: {system: string; kind: string; s: Summary}[] = []

  ctx.log(`spawn floor: ${n} times spawn echo server + initialize + tools/list over stdio`)
  const spawn: number[] = []
  for (let i = 0; i < n; i++) spawn.push(await spawnAndOpen())
  const spawnS = summarize(spawn)
  rows.push({system: 'direct stdio (floor)', kind: 'spawn the child, initialize, tools/list', s: spawnS})

  for (const sys of GATEWAYS) {
    const why = sys.unavailable()
    if (why) {
      notes.push(`${sys.name}: ${why}`)
      continue
    }
    ctx.log(`${sys.name}: ${n} sessions`)
    let g: Gateway | undefined
    try {
      g = await sys.start()
      // A first session, kept open, so a client's child is already running.
      const first = await openSession(g)
      const times: number[] = []
      for (let i = 0; i < n; i++) {
        const s = await openSession(g)
        times.push(s.ms)
        await closeSession(s)
      }
      const kind = g.newClient ? "client's child already running" : 'any session (no client notion)'
      rows.push({system: sys.name, kind, s: summarize(times)})
      if (g.newClient) {
        ctx.log(`${sys.name}: ${nNew} new clients (registration and token not timed)`)
        const fresh: number[] = []
        for (let i = 0; i < nNew; i++) {
          const bearer = await g.newClient()
          const s = await openSession(g, bearer)
          fresh.push(s.ms)
          await closeSession(s)
        }
        rows.push({system: sys.name, kind: 'new client (its child spawned)', s: summarize(fresh)})
      }
      await closeSession(first)
    } finally {
      await g?.stop()
    }
  }
  const running = rows.find((r) => r.system === 'gatehouse' && r.kind.startsWith("client's"))
  const fresh = rows.find((r) => r.system === 'gatehouse' && r.kind.startsWith('new client'))
  notes.push(
    'timed from the initialize POST to the tools/list answer (initialize, notifications/initialized, tools/list), each session on a new keep-alive connection, one at a time; sessions closed with DELETE after timing',
    'supergateway spawns a child per session; mcp-proxy and gatehouse reuse one where they can',
  )
  return {
    id: '3',
    title: 'Opening a session (initialize until the first tool list)',
    tables: [
      {
        title: 'session open',
        columns: ['system', 'case', 'n', 'p50 ms', 'mean ms', 'p90 ms', 'max ms'],
        rows: rows.map((r) => [r.system, r.kind, String(r.s.n), fmt.ms(r.s.p50), fmt.ms(r.s.mean), fmt.ms(r.s.p90), fmt.ms(r.s.max)]),
      },
    ],
    notes,
    targets: [
      target('3', "gatehouse session open, client's child running (p50)", '< 10 ms', running?.s.p50 ?? Number.NaN, (v) => v < 10, (v) => `${fmt.ms(v)} ms`, '7'),
      target(
        '3',
        'gatehouse session open, new client (p50) minus spawn floor (p50)',
        '<= 20 ms',
        fresh ? fresh.s.p50 - spawnS.p50 : Number.NaN,
        (v) => v <= 20,
        (v) => `${fmt.ms(v)} ms (floor ${fmt.ms(spawnS.p50)} ms)`,
        '7',
      ),
    ],
    data: {rows},
  }
}
