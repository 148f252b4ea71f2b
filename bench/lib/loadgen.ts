import {performance} from 'node:perf_hooks'
import {summarize} from './stats.js'
import {machineBusySeconds} from './proctree.js'

/**
 * A lean closed-loop load generator: `concurrency` loops, each awaiting one operation at a time,
 * until `durationMs` has passed or `maxRequests` operations were started, whichever is first.
 * Every operation checks its own response and throws on anything wrong; throws are counted as
 * errors (the first message is kept). Bounded: a run that does not end `hardLimitMs` after its
 * duration rejects.
 */
export interface LoadOptions {
  concurrency: number
  durationMs: number
  maxRequests: number
  /** One operation: resolve when the response checked out, throw otherwise. */
  op: (loop: number, seq: number) => Promise<void>
  hardLimitMs?: number
}

export interface LoadResult {
  ok: number
  errors: number
  firstError?: string
  seconds: number
  /** Successful operations per second. */
  rps: number
  p50: number
  p90: number
  p99: number
  max: number
  mean: number
  /** CPU the load generator itself used, as a fraction of one core (shows when it is the limit). */
  loadgenCpu: number
  /** Busy cores of the whole machine during the run (server, load generator and anything else). */
  machineCpu: number
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const lat = new Float64Array(o.maxRequests)
  let issued = 0
  let ok = 0
  let errors = 0
  let firstError: string | undefined
  let stop = false
  const t0 = performance.now()
  const cpu0 = process.cpuUsage()
  const busy0 = machineBusySeconds()
  const timer = setTimeout(() => {
    stop = true
  }, o.durationMs)

  const loop = async (id: number) => {
    while (!stop && issued < o.maxRequests) {
      const seq = issued++
      const s = performance.now()
      try {
        await o.op(id, seq)
        lat[ok++] = performance.now() - s
      } catch (err) {
        errors++
        firstError ??= err instanceof Error ? err.message : String(err)
        // Do not spin on a dead server.
        if (errors > 1000 && errors > ok) stop = true
      }
    }
  }
  let hard: NodeJS.Timeout | undefined
  const hardLimit = new Promise<never>((_, reject) => {
    hard = setTimeout(
      () => {
        stop = true
        reject(new Error(`load run did not end within ${o.durationMs + (o.hardLimitMs ?? 15000)} ms`))
      },
      o.durationMs + (o.hardLimitMs ?? 15000),
    )
  })
  try {
    await Promise.race([Promise.all(Array.from({length: o.concurrency}, (_, i) => loop(i))), hardLimit])
  } finally {
    clearTimeout(timer)
    clearTimeout(hard)
  }
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  const machineCpu = (machineBusySeconds() - busy0) / seconds
  const s = summarize(lat.subarray(0, ok))
  return {
    ok,
    errors,
    firstError,
    seconds,
    rps: ok / seconds,
    p50: s.p50,
    p90: s.p90,
    p99: s.p99,
    max: s.max,
    mean: s.mean,
    loadgenCpu: (cpu.user + cpu.system) / 1e6 / seconds,
    machineCpu,
  }
}
