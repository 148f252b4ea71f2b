/**
 * `node --import tsx bench/profile-top.ts FILE.cpuprofile [--top N] [--ops N]`: where a V8 CPU
 * profile (from `npm run bench -- --cpu-prof`) spent its time. Self time by function and by
 * origin (Gatehouse's dist/, a package in node_modules, Node's internals, the garbage collector,
 * idle). With --ops (operations served while profiling, e.g. tokens), also µs per operation.
 * For a flame graph open the file in Chrome DevTools (Performance) or speedscope.
 */
import {readFileSync} from 'node:fs'

interface Node {
  id: number
  callFrame: {functionName: string; url: string; lineNumber: number}
  children?: number[]
}
interface Profile {
  nodes: Node[]
  samples: number[]
  timeDeltas: number[]
  startTime: number
  endTime: number
}

const args = process.argv.slice(2)
const file = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a))
const opt = (name: string) => {
  const i = args.indexOf(name)
  return i === -1 ? undefined : Number(args[i + 1])
}
if (!file) {
  console.error('usage: node --import tsx bench/profile-top.ts FILE.cpuprofile [--top N] [--ops N]')
  process.exit(2)
}
const top = opt('--top') ?? 25
const ops = opt('--ops')
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile
const byId = new Map(p.nodes.map((n) => [n.id, n]))
const self = new Map<number, number>()
// timeDeltas[i] is the time before sample i: attribute it to the node sampled.
for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0))

/** Where a frame's code comes from. */
function origin(n: Node): string {
  const {url, functionName} = n.callFrame
  if (!url) {
    if (functionName === '(idle)' || functionName === '(program)' || functionName === '(garbage collector)') return functionName
    return '(native / V8 builtins)'
  }
  if (url.startsWith('node:')) return 'node: internals'
  const nm = url.lastIndexOf('/node_modules/')
  if (nm !== -1) {
    const rest = url.slice(nm + 14).split('/')
    return `node_modules/${rest[0]!.startsWith('@') ? rest.slice(0, 2).join('/') : rest[0]}`
  }
  const d = url.indexOf('/dist/')
  if (d !== -1) return `gatehouse ${url.slice(d + 1).split('/').slice(0, 2).join('/')}`
  return url
}

const total = [...self.values()].reduce((a, b) => a + b, 0)
const busy = total - [...self].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((a, [, t]) => a + t, 0)
const fn = new Map<string, number>()
const org = new Map<string, number>()
for (const [id, t] of self) {
  const n = byId.get(id)!
  const f = n.callFrame
  const key = `${f.functionName || '(anonymous)'}  ${f.url ? `${f.url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/')}:${f.lineNumber + 1}` : ''}`
  fn.set(key, (fn.get(key) ?? 0) + t)
  const o = origin(n)
  org.set(o, (org.get(o) ?? 0) + t)
}
const line = (label: string, us: number) => {
  const share = ((us / busy) * 100).toFixed(1).padStart(5)
  const perOp = ops ? `  ${(us / ops).toFixed(1).padStart(7)} µs/op` : ''
  return `${share}%  ${(us / 1000).toFixed(0).padStart(7)} ms${perOp}  ${label}`
}
console.log(`${file}\nwall ${((p.endTime - p.startTime) / 1e6).toFixed(1)} s, busy (not idle) ${(busy / 1e6).toFixed(1)} s${ops ? `, ${ops} operations: ${(busy / ops).toFixed(1)} µs/op busy` : ''}; shares are of busy time\n`)
console.log('by origin (self time)')
for (const [k, t] of [...org].filter(([k]) => k !== '(idle)').sort((a, b) => b[1] - a[1])) console.log(line(k, t))
console.log(`\ntop ${top} functions (self time)`)
for (const [k, t] of [...fn].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(line(k, t))
