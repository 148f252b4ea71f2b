/**
 * `node --import tsx bench/profile-groups.ts FILE.cpuprofile [--ops N] [--cpu US] [--from TEXT]`:
 * a V8 CPU profile's busy time by function group (HTTP parse, response write, client
 * authentication, signing, store, JSON, audit, logging, ...), the accounting behind "Where the
 * microseconds go" in bench/README.md.
 *
 * Each sample goes to the group of the innermost frame of its stack that a rule below names
 * (walking from the leaf toward the root), so `JSON.stringify` called by the audit log counts as
 * JSON, and Node's socket write under `res.end()` as the response write, whoever called them.
 * Samples before the first one whose stack contains TEXT (`--from`, default `dist/http/app.js`:
 * the first request served) are left out, which drops the daemon's start-up. With `--ops`
 * (operations served while profiling) each group is also given in µs per operation of the
 * profiled run; with `--cpu` (server CPU µs per operation of an unprofiled run of the same path)
 * each share is scaled to it, which is how the README's tables are made (the profiler itself
 * adds 10-30%, so its own µs are not the figures to quote).
 */
import {readFileSync} from 'node:fs'

interface Frame {
  functionName: string
  url: string
  lineNumber: number
}
interface Node {
  id: number
  callFrame: Frame
  children?: number[]
}
interface Profile {
  nodes: Node[]
  samples: number[]
  timeDeltas: number[]
}

/** [group, test of one frame]; the first rule that matches a frame names its group. */
const RULES: Array<[string, (f: Frame) => boolean]> = [
  ['garbage collector', (f) => f.functionName === '(garbage collector)'],
  ['idle', (f) => f.functionName === '(idle)'],
  ['JSON parse/stringify', (f) => !f.url && (f.functionName === 'parse' || f.functionName === 'stringify')],
  ['ES256 signature (node:crypto)', (f) => f.functionName === 'signOneShot' || (f.url === 'node:internal/crypto/sig')],
  ['hashing (SHA-256, node:crypto)', (f) => f.url === 'node:internal/crypto/hash'],
  ['random ids (node:crypto)', (f) => f.url === 'node:internal/crypto/random' || f.functionName === 'randomUUID'],
  ['logging', (f) => /\/dist\/log\.js$/.test(f.url)],
  ['audit record', (f) => /\/dist\/audit\//.test(f.url)],
  ['usage record', (f) => /\/dist\/oauth\/usage-recorder\.js$/.test(f.url)],
  ['store (SQLite)', (f) => /\/dist\/store\/|\/node_modules\/better-sqlite3\//.test(f.url)],
  ['JWT build and sign (own code)', (f) => /\/dist\/oauth\/(jws|access-token)\.js$|\/dist\/oauth\/keys\//.test(f.url)],
  ['jose', (f) => /\/node_modules\/jose\//.test(f.url)],
  ['client authentication', (f) => /\/dist\/oauth\/(client-auth|client-directory|client-assertion)\.js$|\/dist\/clients\//.test(f.url)],
  ['rate limits and budgets', (f) => /\/dist\/oauth\/(rate-limit|request-limiter|shared-budgets)\.js$/.test(f.url)],
  ['bearer check and revocation', (f) => /\/dist\/oauth\/(token-verifier|revocation-list)\.js$|\/dist\/gateway\/bearer\.js$/.test(f.url)],
  ['token endpoint and grant', (f) => /\/dist\/oauth\/(token-endpoint|scopes|resource)\.js$|\/dist\/oauth\/grants\//.test(f.url)],
  ['policy', (f) => /\/dist\/policy\/|\/dist\/gateway\/(policy-step|scope-guard)\.js$/.test(f.url)],
  ['child link (framing, id map, pipe)', (f) => /\/dist\/gateway\/(framing|response-line|child-message|child-process|id-map|input-relay|oversize-line|multiplexer)\.js$/.test(f.url)],
  ['MCP endpoint (2026-07-28)', (f) => /\/dist\/gateway\/modern\//.test(f.url)],
  ['MCP endpoint (2025 session)', (f) => /\/dist\/gateway\//.test(f.url)],
  ['request body read', (f) => /\/dist\/http\/(body|body-budget|json-strict)\.js$/.test(f.url)],
  ['response headers and body (own code)', (f) => /\/dist\/http\/(respond|headers|errors)\.js$/.test(f.url)],
  ['routing, guards, access log hook', (f) => /\/dist\/http\//.test(f.url)],
  ['server wiring (server.ts)', (f) => /\/dist\/server\.js$/.test(f.url)],
  ['other Gatehouse code', (f) => /\/dist\//.test(f.url)],
  ['HTTP response write (node:http)', (f) => /^node:_http_outgoing$|^node:_http_server$/.test(f.url) && /^(write|end|_send|_writeRaw|_storeHeader|writeHead|setHeader|_implicitHeader|processHeader|storeHeader|onFinish|resOnFinish|_finish)/.test(f.functionName)],
  ['socket write (writev)', (f) => f.functionName === 'writev' || f.functionName === 'writevGeneric' || f.functionName === 'writeGeneric' || f.url === 'node:internal/stream_base_commons' && /write/i.test(f.functionName)],
  ['child pipe I/O (node)', (f) => /^node:internal\/child_process/.test(f.url)],
  ['HTTP parse and dispatch (node:http)', (f) => /^node:_http_(server|common|incoming)$/.test(f.url) || f.functionName === 'execute'],
  ['socket read and streams (node)', (f) => /^node:(net|internal\/streams\/|stream)/.test(f.url) || f.functionName === 'onStreamRead'],
  ['timers, promises, event loop', (f) => /^node:internal\/(timers|process\/task_queues|async_hooks)$|^node:timers$/.test(f.url) || f.functionName === 'runMicrotasks'],
  ['module loading', (f) => /^node:internal\/modules\//.test(f.url)],
]

const args = process.argv.slice(2)
const file = args.find((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1]!.startsWith('--')))
const opt = (name: string) => {
  const i = args.indexOf(name)
  return i === -1 ? undefined : args[i + 1]
}
if (!file) {
  console.error('usage: node --import tsx bench/profile-groups.ts FILE.cpuprofile [--ops N] [--cpu US] [--from TEXT]')
  process.exit(2)
}
process.stdout.on('error', () => process.exit(0))
const ops = opt('--ops') ? Number(opt('--ops')) : undefined
const cpu = opt('--cpu') ? Number(opt('--cpu')) : undefined
const from = opt('--from') ?? 'dist/http/app.js'
/** --detail GROUP: that group's samples by leaf function and nearest Gatehouse caller. */
const detail = opt('--detail')

const p = JSON.parse(readFileSync(file, 'utf8')) as Profile
const byId = new Map(p.nodes.map((n) => [n.id, n]))
const parent = new Map<number, number>()
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)

const groupOf = new Map<number, string>()
const touchesFrom = new Map<number, boolean>()
function classify(id: number): string {
  const known = groupOf.get(id)
  if (known) return known
  let group: string | undefined
  for (let at: number | undefined = id; at !== undefined && !group; at = parent.get(at)) {
    const f = byId.get(at)!.callFrame
    group = RULES.find(([, test]) => test(f))?.[0]
  }
  // A write into the child's stdin pipe wakes the child on the same core and the kernel often
  // runs it at once: the gateway's sample then lands in the write while the child works.
  if (group === SOCKET_WRITE && underChildWrite(id)) group = PIPE_WRITE
  const leaf = byId.get(id)!.callFrame
  group ??= leaf.url ? `other: ${leaf.url.replace(/^file:\/\/.*?\/node_modules\//, '')}` : `other: ${leaf.functionName || '(anonymous)'}`
  groupOf.set(id, group)
  return group
}
const SOCKET_WRITE = 'socket write (writev)'
const PIPE_WRITE = "write to the child's stdin (the child's run on the same core lands here)"
function underChildWrite(id: number): boolean {
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    if (/\/dist\/gateway\/child-process\.js$/.test(byId.get(at)!.callFrame.url)) return true
  }
  return false
}
function touches(id: number): boolean {
  const known = touchesFrom.get(id)
  if (known !== undefined) return known
  let hit = false
  for (let at: number | undefined = id; at !== undefined && !hit; at = parent.get(at)) {
    const f = byId.get(at)!.callFrame
    hit = f.url.includes(from) || f.functionName === from
  }
  touchesFrom.set(id, hit)
  return hit
}

const groups = new Map<string, number>()
const details = new Map<string, number>()
const fnName = (f: Frame) => `${f.functionName || '(anonymous)'} ${f.url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/')}:${f.lineNumber + 1}`
function nearestOwn(id: number): string {
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const f = byId.get(at)!.callFrame
    if (f.url.includes('/dist/')) return fnName(f)
  }
  return '-'
}
let started = false
for (let i = 0; i < p.samples.length; i++) {
  const id = p.samples[i]!
  started ||= touches(id)
  if (!started) continue
  const g = classify(id)
  groups.set(g, (groups.get(g) ?? 0) + (p.timeDeltas[i] ?? 0))
  if (detail && g === detail) {
    const k = `${fnName(byId.get(id)!.callFrame)}  <=  ${nearestOwn(id)}`
    details.set(k, (details.get(k) ?? 0) + (p.timeDeltas[i] ?? 0))
  }
}
groups.delete('idle')
const busy = [...groups.values()].reduce((a, b) => a + b, 0)
console.log(`${file}\nbusy from the first sample touching ${from}: ${(busy / 1e6).toFixed(2)} s${ops ? `, ${ops} operations, ${(busy / ops).toFixed(1)} µs/op profiled` : ''}${cpu ? `; scaled to ${cpu} µs/op` : ''}\n`)
for (const [g, t] of [...groups].sort((a, b) => b[1] - a[1])) {
  const share = t / busy
  const cells = [`${(share * 100).toFixed(1).padStart(5)}%`]
  if (ops) cells.push(`${(t / ops).toFixed(1).padStart(7)} µs/op profiled`)
  if (cpu) cells.push(`${(share * cpu).toFixed(1).padStart(6)} µs/op`)
  console.log(`${cells.join('  ')}  ${g}`)
}
if (detail) {
  console.log(`\n${detail}: leaf function  <=  nearest Gatehouse frame`)
  for (const [k, t] of [...details].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`${((t / busy) * 100).toFixed(1).padStart(5)}%  ${k}`)
}
