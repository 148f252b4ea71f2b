import Database from 'better-sqlite3'
import {closeSync, openSync} from 'node:fs'
import {describeFsError} from '../../config/paths.js'
import {GatehouseError} from '../../errors.js'

/**
 * Opens (creating it 0600 if missing) a SQLite database shared by the CLI and the daemon.
 * - WAL: readers never block the writer, so the CLI can revoke while the daemon serves.
 * - busy_timeout: a writer waits for another's transaction instead of failing SQLITE_BUSY.
 * - synchronous=FULL: a committed revocation survives power loss, not only a crash. Nothing on
 *   the hot path writes (last-use times are batched), so the fsync costs no request.
 */
export function openDatabase(file: string, options: {busyTimeoutMs?: number} = {}): Database.Database {
  let db: Database.Database
  try {
    // SQLite gives the -wal and -shm files the database file's mode, so 0600 covers all three.
    closeSync(openSync(file, 'a', 0o600))
    db = new Database(file)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? ''
    throw new GatehouseError('STORAGE', `cannot open the database ${file}: ${describeFsError(code) || String(error)}`, {
      cause: error,
    })
  }
  try {
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 10_000}`)
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = FULL')
    db.pragma('foreign_keys = ON')
    // A damaged file fails here (SQLITE_NOTADB / SQLITE_CORRUPT) rather than on first use.
    db.prepare('SELECT count(*) FROM sqlite_schema').get()
  } catch (error) {
    db.close()
    throw storageError(file, error)
  }
  return db
}

/** Maps a SQLite failure to a one-line message a user can act on. */
export function storageError(file: string, error: unknown): GatehouseError {
  if (error instanceof GatehouseError) return error
  const code = (error as {code?: string}).code ?? ''
  const reason =
    code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT'
      ? 'it is damaged or not a gatehouse database'
      : code === 'SQLITE_READONLY' || code.startsWith('SQLITE_READONLY')
        ? 'it is read-only'
        : code === 'SQLITE_FULL'
          ? 'the disk is full'
          : code === 'SQLITE_CANTOPEN'
            ? 'it cannot be opened'
            : code === 'SQLITE_BUSY'
              ? 'it stayed locked by another process'
              : (error as Error).message
  return new GatehouseError('STORAGE', `database ${file}: ${reason}`, {cause: error})
}
