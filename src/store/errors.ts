/**
 * The store's own failures, in words of the store and not of one database: the rules above
 * (src/clients/admin.ts, src/oauth/) decide what each means to a user. Every backend maps its
 * driver's codes (SQLite's SQLITE_CONSTRAINT_*, PostgreSQL's SQLSTATE 23505) to these once.
 */

/** A write collided with a row that already exists (a unique key or index). */
export class StoreConflictError extends Error {
  override readonly name = 'StoreConflictError'
  constructor(
    /** What collided, e.g. "clients" (the table or index family), for messages and logs. */
    readonly what: string,
    options?: {cause?: unknown},
  ) {
    super(`conflicting ${what} record`, options)
  }
}

/** A write named a row that does not exist (a foreign key: a token of an unknown client). */
export class StoreNotFoundError extends Error {
  override readonly name = 'StoreNotFoundError'
  constructor(
    readonly what: string,
    options?: {cause?: unknown},
  ) {
    super(`no such ${what} record`, options)
  }
}

/**
 * The database cannot be reached right now (connection refused, lost, timed out). The daemon
 * answers such requests with a refusal carrying Retry-After and goes on; nothing is half done,
 * because every multi-statement change is one transaction.
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError'
  constructor(message: string, options?: {cause?: unknown}) {
    super(message, options)
  }
}

/**
 * One line for people about why the store failed: the driver's own words where there are some
 * (e.g. `connect ECONNREFUSED 10.0.0.5:5432`, `the database system is shutting down`), at most
 * 200 characters, with any credentials of a URL in it replaced by `***` (a driver may quote the
 * connection string it was given). For `gatehouse status` and logs; never a stack.
 */
export function storeErrorLine(error: unknown): string {
  let e = error as {message?: unknown; code?: unknown; cause?: unknown} | undefined
  // The innermost cause is the driver's error; ours (StoreUnavailableError) only wraps it.
  for (let depth = 0; depth < 5 && e?.cause && typeof e.cause === 'object'; depth++) e = e.cause as typeof e
  const message = typeof e?.message === 'string' && e.message ? e.message : String(error)
  const code = typeof e?.code === 'string' && !message.includes(e.code) ? `${e.code}: ` : ''
  const line = `${code}${message}`.split('\n')[0]!.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, '$1***@')
  return line.length > 200 ? `${line.slice(0, 199)}…` : line
}
