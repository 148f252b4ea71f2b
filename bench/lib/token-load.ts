import {pool, post, checkTokenReply, jwtHeader} from './http.js'
import {runLoad, type LoadResult} from './loadgen.js'
import {cpuSeconds, treePids} from './proctree.js'
import type {TokenServer} from '../systems/types.js'

export interface TokenRun extends LoadResult {
  /** Server tree CPU as a fraction of one core during the run. */
  serverCpu: number
  /** Server CPU microseconds per issued token. */
  cpuPerToken: number
}

/** Checks one token by hand: what alg and typ the server signs with. */
export async function probeToken(s: TokenServer): Promise<{alg: unknown; typ: unknown}> {
  const p = pool(s.port, 1)
  try {
    const h = jwtHeader(checkTokenReply(await post(p.conn(0), s.path, s.headers, s.body)))
    return {alg: h.alg, typ: h.typ}
  } finally {
    p.close()
  }
}

/** client_credentials at `concurrency` connections for `durationMs` after a discarded warm-up. */
export async function tokenLoad(s: TokenServer, o: {concurrency: number; durationMs: number; warmupMs: number}): Promise<TokenRun> {
  const p = pool(s.port, o.concurrency)
  const op = async (loop: number) => {
    checkTokenReply(await post(p.conn(loop), s.path, s.headers, s.body))
  }
  try {
    if (o.warmupMs > 0) await runLoad({concurrency: o.concurrency, durationMs: o.warmupMs, maxRequests: 1e6, op})
    const pids = treePids(s.pid)
    const c0 = cpuSeconds(pids)
    const r = await runLoad({concurrency: o.concurrency, durationMs: o.durationMs, maxRequests: Math.ceil(o.durationMs * 40), op})
    const cpu = cpuSeconds(pids) - c0
    return {...r, serverCpu: cpu / r.seconds, cpuPerToken: r.ok ? (cpu / r.ok) * 1e6 : Number.NaN}
  } finally {
    p.close()
  }
}
