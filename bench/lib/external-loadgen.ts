import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {existsSync} from 'node:fs'
import {NODE, benchModule} from './paths.js'
import {CLK_TCK, cpuSeconds, machineBusySeconds, treePids} from './proctree.js'
import {hasTaskset, LOADGEN_CORE} from './taskset.js'
import type {TokenServer} from '../systems/types.js'

/**
 * Well-known load generators run against the same server as `loadgen.ts`, to check it: autocannon
 * (npm, a devDependency of bench/) and wrk (the Debian package, used when `wrk` is on the PATH).
 * Each runs as a child pinned to the load generator's core, with the same connections, request
 * line, headers and body; the server's CPU is read around it.
 */
export interface ExternalRun {
  generator: string
  /** Responses received (any status); `non2xx` of them were not 2xx. */
  requests: number
  non2xx: number
  errors: number
  seconds: number
  rps: number
  /** Latency p99 in ms, where the generator reports it. */
  p99: number
  serverCpu: number
  cpuPerRequest: number
  /** CPU of the generator itself, fraction of one core. */
  loadgenCpu: number
  machineCpu: number
}

export interface ExternalGenerator {
  name: string
  unavailable(): string | undefined
  run(s: TokenServer, o: {connections: number; durationS: number}): ExternalRun
}

const AUTOCANNON = benchModule('autocannon', 'autocannon.js')

/** CPU seconds of this process's waited-for children (cutime + cstime of /proc/self/stat). */
export function childrenCpuSeconds(): number {
  const s = readFileSync('/proc/self/stat', 'utf8')
  const rest = s.slice(s.lastIndexOf(')') + 2).split(' ')
  // rest[0] is field 3; cutime and cstime are fields 16 and 17.
  return (Number(rest[13]) + Number(rest[14])) / CLK_TCK
}

/** Runs argv to completion pinned to the load generator core; server CPU and the generator's own CPU around it. */
function timed(s: TokenServer, argv: string[], timeoutMs: number) {
  const full = hasTaskset() ? ['taskset', '-c', String(LOADGEN_CORE), ...argv] : argv
  const pids = treePids(s.pid)
  const c0 = cpuSeconds(pids)
  const k0 = childrenCpuSeconds()
  const b0 = machineBusySeconds()
  const t0 = performance.now()
  const r = spawnSync(full[0]!, full.slice(1), {encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20})
  const seconds = (performance.now() - t0) / 1000
  const serverCpuSeconds = cpuSeconds(pids) - c0
  const loadgenCpuSeconds = childrenCpuSeconds() - k0
  const machine = machineBusySeconds() - b0
  if (r.error) throw r.error
  if (r.status !== 0) throw new Error(`${argv[0]} exited ${r.status}: ${r.stderr.slice(-500)}`)
  return {stdout: r.stdout, stderr: r.stderr, seconds, serverCpuSeconds, loadgenCpuSeconds, machine}
}

function result(generator: string, t: ReturnType<typeof timed>, requests: number, non2xx: number, errors: number, runSeconds: number, p99: number): ExternalRun {
  return {
    generator,
    requests,
    non2xx,
    errors,
    seconds: runSeconds,
    rps: requests / runSeconds,
    p99,
    // Over the generator's whole life (start-up included): the server works only while it sends.
    serverCpu: t.serverCpuSeconds / t.seconds,
    cpuPerRequest: requests ? (t.serverCpuSeconds / requests) * 1e6 : Number.NaN,
    loadgenCpu: t.loadgenCpuSeconds / t.seconds,
    machineCpu: t.machine / t.seconds,
  }
}

export const autocannon: ExternalGenerator = {
  name: 'autocannon',
  unavailable: () => (existsSync(AUTOCANNON) ? undefined : 'autocannon is not installed in bench/'),
  run(s, o) {
    const argv = [NODE, AUTOCANNON, '-c', String(o.connections), '-d', String(o.durationS), '-m', 'POST', '-b', s.body, '--json']
    for (const [k, v] of Object.entries(s.headers)) argv.push('-H', `${k}=${v}`)
    argv.push(`http://127.0.0.1:${s.port}${s.path}`)
    const t = timed(s, argv, (o.durationS + 30) * 1000)
    const j = JSON.parse(t.stdout) as {
      requests: {total: number}
      '2xx': number
      non2xx: number
      errors: number
      timeouts: number
      duration: number
      latency: {p99: number}
    }
    return result('autocannon', t, j['2xx'] + j.non2xx, j.non2xx, j.errors + j.timeouts, j.duration, j.latency.p99)
  },
}

let wrkChecked: boolean | undefined
export const wrk: ExternalGenerator = {
  name: 'wrk',
  unavailable: () => {
    wrkChecked ??= !spawnSync('wrk', ['--version'], {encoding: 'utf8'}).error
    return wrkChecked ? undefined : 'wrk is not on the PATH (Debian: apt-get install wrk)'
  },
  run(s, o) {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-wrk-'))
    try {
      const script = join(dir, 'post.lua')
      const lua = [`wrk.method = "POST"`, `wrk.body = ${JSON.stringify(s.body)}`]
      for (const [k, v] of Object.entries(s.headers)) lua.push(`wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`)
      writeFileSync(script, lua.join('\n') + '\n')
      // One thread: the generator gets one core, as loadgen.ts does.
      const argv = ['wrk', '-t1', `-c${o.connections}`, `-d${o.durationS}s`, '--latency', '-s', script, `http://127.0.0.1:${s.port}${s.path}`]
      const t = timed(s, argv, (o.durationS + 30) * 1000)
      const m = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(t.stdout)
      if (!m) throw new Error(`wrk: no request count in ${t.stdout}`)
      const unit = {us: 1e-6, ms: 1e-3, s: 1, m: 60}[m[3] as 'us' | 'ms' | 's' | 'm']
      const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(t.stdout)?.[1] ?? 0)
      const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(t.stdout)
      const errors = sock ? sock.slice(1).reduce((a, x) => a + Number(x), 0) : 0
      const p = /\s99%\s+([\d.]+)(us|ms|s)/.exec(t.stdout)
      const p99 = p ? Number(p[1]) * {us: 1e-3, ms: 1, s: 1000}[p[2] as 'us' | 'ms' | 's'] : Number.NaN
      return result('wrk', t, Number(m[1]), non2xx, errors, Number(m[2]) * unit, p99)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  },
}

export const EXTERNAL_GENERATORS = [autocannon, wrk]
