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
  /** `gatehouse status`/`stop`: no daemon runs on this data dir (a stale record counts as none). */
  NOT_RUNNING: 12,
  /** The runtime record (daemon.json) is not ours, unreadable or malformed. */
  RUNTIME_RECORD: 13,
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
