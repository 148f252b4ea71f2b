/**
 * Makes a running daemon findable: the owner-only status socket and the runtime record, and
 * takes both away on a clean stop. The caller holds the data dir's lock (daemon-lock.ts).
 */
import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import type {Logger} from '../log.js'
import {processStartTime} from './process-identity.js'
import {RECORD_FORMAT, removeRuntimeRecord, writeRuntimeRecord, type RuntimeRecord} from './runtime-record.js'
import {openStatusSocket, type StatusSocket} from './status-socket.js'

/** This package's version (package.json beside src/ and dist/). */
export function packageVersion(): string {
  try {
    const file = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json')
    return String((JSON.parse(readFileSync(file, 'utf8')) as {version?: unknown}).version ?? 'unknown')
  } catch {
    return 'unknown'
  }
}

export interface Published {
  record: RuntimeRecord
  /** Removes the record and closes the socket. */
  close(): Promise<void>
}

export async function publishDaemon({
  dataDir,
  issuer,
  url,
  host,
  port,
  startedAt,
  store,
  logger,
  report,
}: {
  dataDir: string
  issuer: string
  url: string
  host: string
  port: number
  /** ms since the epoch. */
  startedAt: number
  /** Store.describe(): which store the daemon uses (no credentials). */
  store: string
  logger: Logger
  report: (record: RuntimeRecord) => Promise<unknown>
}): Promise<Published> {
  const record: RuntimeRecord = {
    format: RECORD_FORMAT,
    pid: process.pid,
    process_start: await processStartTime(process.pid),
    started_at: new Date(startedAt).toISOString(),
    version: packageVersion(),
    issuer,
    url,
    host,
    port,
    data_dir: dataDir,
    status_socket: null,
    store,
  }
  let socket: StatusSocket | undefined
  try {
    socket = await openStatusSocket(dataDir, () => report(record))
    record.status_socket = socket.path
  } catch (error) {
    logger.warn('the status socket could not be opened; `gatehouse status` will show less', {error: (error as Error).message})
  }
  await writeRuntimeRecord(dataDir, record)
  return {
    record,
    async close() {
      await removeRuntimeRecord(dataDir)
      await socket?.close()
    },
  }
}
