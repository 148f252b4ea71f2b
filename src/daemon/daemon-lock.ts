/**
 * One daemon per data dir. The lock is a kernel lock: SQLite (better-sqlite3, already a
 * dependency) holds an exclusive POSIX advisory lock on <dataDir>/daemon.lock for as long as the
 * daemon's connection is open (`locking_mode=EXCLUSIVE` plus one write). The kernel drops it
 * when the process ends in any way, SIGKILL included, so there is no stale lock to detect and no
 * race between two daemons that both think a lock file is stale (the flaw of O_EXCL lock files
 * and of mtime-based libraries such as proper-lockfile). Node has no flock() of its own.
 *
 * The runtime record (runtime-record.ts) is a separate file, written only by the lock holder:
 * the lock says "someone runs", the record says who and where.
 */
import Database from 'better-sqlite3'
import {closeSync, openSync} from 'node:fs'
import {join} from 'node:path'
import {ensureDataDir} from '../config/paths.js'
import {GatehouseError} from '../errors.js'
import {readRuntimeRecord} from './runtime-record.js'

export const lockFile = (dataDir: string) => join(dataDir, 'daemon.lock')

export interface DaemonLock {
  /** Releases the lock (idempotent). */
  release(): void
}

/**
 * Takes the data dir's lock or throws GatehouseError CONFLICT naming the running daemon's pid
 * and URL (from its runtime record) and how to stop it. Never waits.
 */
export async function acquireDaemonLock(dataDir: string): Promise<DaemonLock> {
  ensureDataDir(dataDir)
  const file = lockFile(dataDir)
  // Created 0600 before SQLite opens it (SQLite would create it with the umask's mode).
  closeSync(openSync(file, 'a', 0o600))
  const db = new Database(file, {timeout: 0})
  try {
    db.pragma('locking_mode = EXCLUSIVE')
    db.exec('BEGIN EXCLUSIVE')
    db.exec('CREATE TABLE IF NOT EXISTS daemon_lock (held INTEGER)')
    db.exec('COMMIT')
  } catch (error) {
    db.close()
    if ((error as {code?: string}).code === 'SQLITE_BUSY') throw await alreadyRunning(dataDir)
    throw new GatehouseError('STORAGE', `cannot lock ${file}: ${(error as Error).message}`, {cause: error})
  }
  let held = true
  return {
    release() {
      if (held) db.close()
      held = false
    },
  }
}

async function alreadyRunning(dataDir: string): Promise<GatehouseError> {
  let who = 'pid unknown: it is still starting'
  try {
    const r = await readRuntimeRecord(dataDir)
    if (r.state !== 'absent') who = `pid ${r.record.pid}, ${r.record.url}`
  } catch {
    // an unreadable record changes nothing about the answer
  }
  return new GatehouseError(
    'CONFLICT',
    `another gatehouse daemon is running on the data dir ${dataDir} (${who}); stop it with \`npx gatehouse stop --data-dir ${dataDir}\`, or use another --data-dir`,
  )
}
