/**
 * What `gatehouse status` and `gatehouse stop` do, apart from printing: find the daemon of a
 * data dir through its runtime record, ask it over its owner-only socket, or stop it.
 */
import {GatehouseError} from '../errors.js'
import {liveness} from './process-identity.js'
import {readRuntimeRecord, type RuntimeRecord} from './runtime-record.js'
import {fetchStatus} from './status-socket.js'

export type DaemonStatus =
  | {running: false; data_dir: string; reason: string}
  | ({running: true} & Record<string, unknown>)

/**
 * The status of the daemon of `dataDir`. Not running when there is no record, or the record is
 * stale (pid gone, or reused by another program: never signalled). Running: the report from its
 * status socket, or what the record says when the socket does not answer (still starting, or
 * stopping). Throws GatehouseError RUNTIME_RECORD when the record is not ours.
 */
export async function daemonStatus(dataDir: string): Promise<DaemonStatus> {
  const state = await readRuntimeRecord(dataDir)
  if (state.state === 'absent') return {running: false, data_dir: dataDir, reason: 'no daemon has recorded itself here'}
  if (state.state === 'stale') {
    return {running: false, data_dir: dataDir, reason: `the runtime record is stale: pid ${state.record.pid} ${state.reason === 'gone' ? 'is gone' : 'now belongs to another program'} (the daemon did not stop cleanly)`}
  }
  const r = state.record
  const report = r.status_socket ? await fetchStatus(r.status_socket).catch(() => null) : null
  if (report && report.pid === r.pid) return {...report, running: true}
  if (!state.verified) return {running: false, data_dir: dataDir, reason: `pid ${r.pid} exists but does not answer on the status socket`}
  return {running: true, url: r.url, issuer: r.issuer, pid: r.pid, version: r.version, started_at: r.started_at, data_dir: r.data_dir, clients: [], detail: 'the status socket did not answer'}
}

/**
 * Stops the daemon of `dataDir`: SIGTERM to the recorded pid, only after checking it is that
 * daemon (same /proc start time, or, without /proc, its status socket answering with that pid),
 * then waits up to `timeoutMs` for it to be gone. Throws NOT_RUNNING when no daemon runs (a stale
 * record's pid is never signalled), RUNTIME_RECORD when the record is not ours, CONFLICT when
 * it does not stop in time.
 */
export async function stopDaemon(
  dataDir: string,
  {timeoutMs = 20_000, wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))}: {timeoutMs?: number; wait?: (ms: number) => Promise<void>} = {},
): Promise<RuntimeRecord> {
  const state = await readRuntimeRecord(dataDir)
  if (state.state === 'absent') throw new GatehouseError('NOT_RUNNING', `no daemon is running on ${dataDir}`)
  if (state.state === 'stale') throw new GatehouseError('NOT_RUNNING', `no daemon is running on ${dataDir} (stale record: pid ${state.record.pid} ${state.reason === 'gone' ? 'is gone' : 'belongs to another program'}; nothing was signalled)`)
  const r = state.record
  if (!state.verified) {
    const report = r.status_socket ? await fetchStatus(r.status_socket).catch(() => null) : null
    if (report?.pid !== r.pid) throw new GatehouseError('NOT_RUNNING', `cannot confirm that pid ${r.pid} is the daemon of ${dataDir}; nothing was signalled`)
  }
  try {
    process.kill(r.pid, 'SIGTERM')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return r
    throw new GatehouseError('CONFLICT', `cannot signal pid ${r.pid}: ${(error as NodeJS.ErrnoException).code}`)
  }
  for (let waited = 0; waited < timeoutMs; waited += 100) {
    const now = await liveness(r.pid, r.process_start)
    if (now === 'gone' || now === 'reused') return r
    await wait(100)
  }
  throw new GatehouseError('CONFLICT', `the daemon (pid ${r.pid}) did not stop within ${Math.round(timeoutMs / 1000)} s`)
}
