/**
 * The errors a user can see from the CLI. Each has a stable code, and each code one exit
 * status (see `exitCodes`), so scripts can tell "no such client" from "disk is read-only".
 * Errors of the OAuth protocol live in src/oauth/errors.ts; this family is for everything else.
 */
export type ErrorCode =
  | 'INVALID_INPUT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'STORAGE'
  | 'SCHEMA_TOO_NEW'
  | 'KEYCHAIN'
  | 'NEEDS_INPUT'
  | 'CANCELLED'
  | 'CONFIG'
  | 'DATABASE_UNREACHABLE'
  | 'DATABASE_REFUSED'
  | 'KEY_ENCRYPTION'
  | 'NOT_RUNNING'
  | 'RUNTIME_RECORD'

export const exitCodes: Record<ErrorCode, number> = {
  INVALID_INPUT: 3,
  NOT_FOUND: 4,
  CONFLICT: 5,
  STORAGE: 6,
  SCHEMA_TOO_NEW: 7,
  KEYCHAIN: 8,
  NEEDS_INPUT: 9,
  CANCELLED: 10,
  CONFIG: 11,
  /** PostgreSQL does not answer: refused, timed out, no such host. */
  DATABASE_UNREACHABLE: 12,
  /** PostgreSQL answers but refuses us: authentication, no such database, TLS. */
  DATABASE_REFUSED: 13,
  /** The key-encryption key does not open the secrets in the database. */
  KEY_ENCRYPTION: 14,
  /** `gatehouse status`/`stop`: no daemon runs on this data dir (a stale record counts as none). */
  NOT_RUNNING: 15,
  /** The runtime record (daemon.json) is not ours, unreadable or malformed. */
  RUNTIME_RECORD: 16,
}

export class GatehouseError extends Error {
  override readonly name = 'GatehouseError'
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: {cause?: unknown},
  ) {
    super(message, options)
  }
}

export const invalidInput = (message: string) => new GatehouseError('INVALID_INPUT', message)
