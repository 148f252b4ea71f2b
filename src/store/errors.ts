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
