import {setTimeout as sleep} from 'node:timers/promises'
import {GATEWAYS} from '../lib/gateways.js'
import {openSession, closeSession} from '../lib/session-open.js'
import {rssBytes, treeRss} from '../lib/proctree.js'
import {fmt, target, type Context, type ScenarioResult} from '../lib/report.js'
import type {Gateway} from '../systems/types.js'

const SETTLE_MS = 1500

interface Row {
  system: string
  idleDaemon: number
  idleTree: number
  oneClient?: {sessions: number; bytes: number; processes: number}
  tenClients?: {sessions: number; bytes: number; processes: number}
}

async function holdSessions(g: Gateway, bearers: string[], perBearer: number) {
  const open = []
  for (const b of bearers) for (let i = 0; i < perBearer; i++) open.push(await openSession(g, b))
  await sleep(SETTLE_MS)
  const r = treeRss(g.pid)
  for (const s of open) await closeSession(s).catch(() => {})
  return {sessions: open.length, bytes: r.bytes, processes: r.processes}
}

/** RSS of the daemon idle, and of its whole process tree holding many sessions. */
export async function memory(ctx: Context): Promise<ScenarioResult> {
  const notes: string[] = []
  const rows: Row[] = []
  for (const sys of GATEWAYS) {
    const why = sys.unavailable()
    if (why) {
      notes.push(`${sys.name}: ${why}`)
      continue
    }
    // Peers spawn a process per session (supergateway): fewer sessions in a quick run.
    const sessions = sys.name === 'gatehouse' || !ctx.quick ? 100 : 20
    let g: Gateway | undefined
    let row: Row
    try {
      ctx.log(`${sys.name}: idle`)
      g = await sys.start()
      await sleep(SETTLE_MS)
      row = {system: sys.name, idleDaemon: rssBytes([g.pid]), idleTree: treeRss(g.pid).bytes}
      ctx.log(`${sys.name}: ${sessions} sessions of one client`)
      row.oneClient = await holdSessions(g, [g.bearer ?? ''], sessions)
    } finally {
      await g?.stop()
      g = undefined
    }
    if (sys.name === 'gatehouse') {
      try {
        ctx.log(`${sys.name}: ${sessions} sessions of 10 clients`)
        g = await sys.start()
        const bearers = [g.bearer!]
        for (let i = 1; i < 10; i++) bearers.push(await g.newClient!())
        row.tenClients = await holdSessions(g, bearers, sessions / 10)
      } finally {
        await g?.stop()
      }
    }
    rows.push(row)
  }
  const gh = rows.find((r) => r.system === 'gatehouse')
  notes.push(
    'RSS from /proc/<pid>/statm; "tree" sums the gateway and every descendant (children, shells); sessions opened one at a time, measured after a 1.5 s settle',
    'supergateway and mcp-proxy have no notion of OAuth clients, so only the one-client figure applies to them',
  )
  if (ctx.quick) notes.push('quick run: the peers hold 20 sessions instead of 100')
  const sess = (x?: {sessions: number; bytes: number; processes: number}) => (x ? `${fmt.mib(x.bytes)} (${x.sessions} sessions, ${x.processes} processes)` : '-')
  return {
    id: '4',
    title: 'Memory',
    tables: [
      {
        title: 'resident memory, MiB',
        columns: ['system', 'daemon idle', 'tree idle', 'tree, sessions of one client', 'tree, sessions of 10 clients'],
        rows: rows.map((r) => [r.system, fmt.mib(r.idleDaemon), fmt.mib(r.idleTree), sess(r.oneClient), sess(r.tenClients)]),
      },
    ],
    notes,
    targets: [
      target('4', 'gatehouse daemon RSS idle', '< 60 MB', gh?.idleDaemon ?? Number.NaN, (v) => v < 60e6, (v) => `${(v / 1e6).toFixed(1)} MB`, '15'),
      target('4', 'gatehouse tree, 100 sessions of one client', '< 150 MB', gh?.oneClient?.bytes ?? Number.NaN, (v) => v < 150e6, (v) => `${(v / 1e6).toFixed(1)} MB`, '7'),
    ],
    data: {rows},
  }
}
