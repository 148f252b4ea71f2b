/**
 * The runtime record: where the daemon of a data dir listens, kept in <dataDir>/daemon.json
 * (mode 0600) while it runs, so that commands printing URLs (oauth-generate-client, connect)
 * point at the daemon that actually runs, and `gatehouse status`/`stop` find it.
 *
 * Written by the daemon after it listens (temp file + rename, so a reader never sees half of
 * it), removed on a clean stop. After a crash the file stays; a reader recognises it as stale
 * because the recorded pid is gone or now belongs to another process (its /proc start time
 * differs). Only the daemon that holds the data dir's lock (daemon-lock.ts) writes it.
 */
import {lstat, readFile, rename, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {GatehouseError} from '../errors.js'
import {liveness, type Liveness} from './process-identity.js'

export const RECORD_FORMAT = 'gatehouse-daemon/1'
export const runtimeRecordFile = (dataDir: string) => join(dataDir, 'daemon.json')

export interface RuntimeRecord {
  format: typeof RECORD_FORMAT
  pid: number
  /** /proc/<pid>/stat field 22 of the daemon; null where there is no /proc. */
  process_start: string | null
  /** ISO 8601. */
  started_at: string
  version: string
  /** The public base URL every published URL derives from. */
  issuer: string
  /** Where it listens, e.g. http://127.0.0.1:8080 */
  url: string
  host: string
  port: number
  data_dir: string
  /** The owner-only status socket (status-socket.ts), or null when it could not be opened. */
  status_socket: string | null
  /**
   * The store it keeps its data in, as Store.describe() says it ("sqlite /path/gatehouse.db",
   * "postgresql host:5432/db": never credentials). Absent in records of older versions.
   */
  store?: string
}

export type RecordState =
  | {state: 'absent'}
  | {state: 'running'; record: RuntimeRecord; verified: boolean}
  | {state: 'stale'; record: RuntimeRecord; reason: Exclude<Liveness, 'alive' | 'unverified'>}

/** Writes the record atomically, 0600. */
export async function writeRuntimeRecord(dataDir: string, record: RuntimeRecord): Promise<void> {
  const file = runtimeRecordFile(dataDir)
  const tmp = `${file}.${process.pid}.tmp`
  await writeFile(tmp, JSON.stringify(record, null, 2) + '\n', {mode: 0o600})
  await rename(tmp, file)
}

/** Removes the record if it is still this process's (a later daemon's record is left alone). */
export async function removeRuntimeRecord(dataDir: string, pid = process.pid): Promise<void> {
  try {
    const current = JSON.parse(await readFile(runtimeRecordFile(dataDir), 'utf8')) as {pid?: unknown}
    if (current.pid !== pid) return
  } catch {
    return
  }
  await rm(runtimeRecordFile(dataDir), {force: true})
}

/**
 * Reads and checks the record. Absent: `absent`. A record whose pid is gone or reused: `stale`
 * (the caller must never signal that pid). Throws GatehouseError RUNTIME_RECORD (one line) when
 * the file is not ours: not a regular file (a symlink, say), owned by another user, unreadable,
 * or not a Gatehouse record. Nothing is changed either way.
 */
export async function readRuntimeRecord(dataDir: string): Promise<RecordState> {
  const file = runtimeRecordFile(dataDir)
  let info
  try {
    info = await lstat(file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {state: 'absent'}
    throw bad(file, (error as NodeJS.ErrnoException).code ?? String(error))
  }
  if (!info.isFile()) throw bad(file, 'not a regular file')
  if (typeof process.getuid === 'function' && info.uid !== process.getuid()) throw bad(file, `owned by uid ${info.uid}, not by you`)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    throw bad(file, (error as NodeJS.ErrnoException).code === 'EACCES' ? 'permission denied' : String((error as Error).message))
  }
  const record = parseRecord(text)
  if (record === null) throw bad(file, 'not a Gatehouse runtime record')
  const alive = await liveness(record.pid, record.process_start)
  if (alive === 'gone' || alive === 'reused') return {state: 'stale', record, reason: alive}
  return {state: 'running', record, verified: alive === 'alive'}
}

function parseRecord(text: string): RuntimeRecord | null {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return null
  }
  if (typeof value !== 'object' || value === null) return null
  const r = value as Record<string, unknown>
  const ok =
    r.format === RECORD_FORMAT &&
    Number.isInteger(r.pid) &&
    (r.pid as number) > 1 &&
    (r.process_start === null || typeof r.process_start === 'string') &&
    typeof r.started_at === 'string' &&
    typeof r.version === 'string' &&
    typeof r.issuer === 'string' &&
    typeof r.url === 'string' &&
    typeof r.host === 'string' &&
    Number.isInteger(r.port) &&
    typeof r.data_dir === 'string' &&
    (r.status_socket === null || typeof r.status_socket === 'string') &&
    (r.store === undefined || typeof r.store === 'string')
  return ok ? (r as unknown as RuntimeRecord) : null
}

const bad = (file: string, why: string) => new GatehouseError('RUNTIME_RECORD', `cannot use the runtime record ${file}: ${why}; nothing was changed`)
