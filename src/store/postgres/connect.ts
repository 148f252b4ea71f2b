import {readFileSync} from 'node:fs'
import pg from 'pg'
import {GatehouseError} from '../../errors.js'
import {StoreConflictError, StoreNotFoundError, StoreUnavailableError} from '../errors.js'
import type {PostgresOptions, SslMode} from '../open-store.js'

/** BIGINT (times in ms, counts) as numbers: every value Gatehouse stores fits in 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
}

export const poolDefaults = {poolMax: 10, connectTimeoutMs: 5000, statementTimeoutMs: 10_000, idleTimeoutMs: 30_000}

export interface Connection {
  pool: pg.Pool
  /** host:port/database, without credentials, for messages. */
  describe: string
  /** A client of its own (not from the pool) with the same settings: the LISTEN connection. */
  newClient(): pg.Client
}

/**
 * A bounded pool to the database the URL names, with TLS as libpq's sslmode says
 * (https://www.postgresql.org/docs/15/libpq-ssl.html#LIBPQ-SSL-PROTECTION): `disable` (default),
 * `require` (encrypted, server not checked), `verify-ca` (signed by the CA file),
 * `verify-full` (and the host name matches). `prefer` and `allow` are refused: this client
 * cannot fall back, and silently not encrypting is what they would mean.
 */
export function connectPostgres(url: string, options: PostgresOptions = {}): Connection {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new GatehouseError('INVALID_INPUT', 'the database URL is not a URL; expected postgres://USER:PASS@HOST:PORT/DB')
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new GatehouseError('INVALID_INPUT', `the database URL must start with postgres:// (got ${parsed.protocol}//)`)
  }
  const sslMode = (options.sslMode ?? parsed.searchParams.get('sslmode') ?? 'disable') as SslMode | 'allow'
  for (const p of ['sslmode', 'sslrootcert', 'sslcert', 'sslkey']) parsed.searchParams.delete(p)
  let ssl: pg.ClientConfig['ssl']
  if (sslMode === 'disable') ssl = false
  else if (sslMode === 'require') ssl = {rejectUnauthorized: false}
  else if (sslMode === 'verify-ca' || sslMode === 'verify-full') {
    let ca: Buffer | undefined
    if (options.caFile) {
      try {
        ca = readFileSync(options.caFile)
      } catch (error) {
        throw new GatehouseError('CONFIG', `cannot read the database CA file ${options.caFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
      }
    }
    ssl = {rejectUnauthorized: true, ...(ca ? {ca} : {}), ...(sslMode === 'verify-ca' ? {checkServerIdentity: () => undefined} : {})}
  } else {
    throw new GatehouseError('INVALID_INPUT', `unsupported sslmode ${JSON.stringify(sslMode)}: use disable, require, verify-ca or verify-full`)
  }
  const describe = `${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`
  const config: pg.PoolConfig = {
    connectionString: parsed.toString(),
    ssl,
    types,
    application_name: 'gatehouse',
    max: options.poolMax ?? poolDefaults.poolMax,
    connectionTimeoutMillis: options.connectTimeoutMs ?? poolDefaults.connectTimeoutMs,
    idleTimeoutMillis: poolDefaults.idleTimeoutMs,
    statement_timeout: options.statementTimeoutMs ?? poolDefaults.statementTimeoutMs,
    query_timeout: (options.statementTimeoutMs ?? poolDefaults.statementTimeoutMs) + 2000,
    keepAlive: true,
  }
  const pool = new pg.Pool(config)
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => {})
  return {pool, describe, newClient: () => new pg.Client({...config, query_timeout: undefined, statement_timeout: undefined})}
}

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNRESET', 'EPIPE', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006'])

/** Whether the error means the database cannot be reached now (as opposed to a bad statement). */
export function isUnreachable(error: unknown): boolean {
  const e = error as {code?: string; message?: string}
  if (e.code && UNREACHABLE_CODES.has(e.code)) return true
  const m = e.message ?? ''
  return /timeout exceeded when trying to connect|Connection terminated|connection timeout|Client has encountered a connection error|Query read timeout|not queryable/i.test(m)
}

/** The first connection's failure, for people: unreachable (exit 12) or refused (exit 13). */
export function connectError(describe: string, error: unknown): GatehouseError {
  if (error instanceof GatehouseError) return error
  const e = error as {code?: string; message?: string}
  const detail = e.code && !/^[0-9A-Z]{5}$/.test(e.code) ? e.code : (e.message ?? String(error)).split('\n')[0]
  if (isUnreachable(error)) {
    return new GatehouseError('DATABASE_UNREACHABLE', `cannot reach the database ${describe}: ${detail}`, {cause: error})
  }
  return new GatehouseError('DATABASE_REFUSED', `the database ${describe} refused the connection: ${(e.message ?? String(error)).split('\n')[0]}`, {cause: error})
}

/** Maps a driver error to the store's own (src/store/errors.ts); others pass unchanged. */
export function storeError(error: unknown): unknown {
  const code = (error as {code?: string}).code
  if (code === '23505') return new StoreConflictError((error as {table?: string}).table ?? 'unique', {cause: error})
  if (code === '23503') return new StoreNotFoundError((error as {table?: string}).table ?? 'referenced', {cause: error})
  if (isUnreachable(error)) return new StoreUnavailableError('the database cannot be reached', {cause: error})
  return error
}

export type Sql = <R extends pg.QueryResultRow = Record<string, unknown>>(text: string, values?: unknown[]) => Promise<R[]>

/** Runs one statement on the pool, errors mapped. */
export function poolSql(pool: pg.Pool): Sql {
  return async (text, values) => {
    try {
      return (await pool.query(text, values)).rows
    } catch (error) {
      throw storeError(error)
    }
  }
}

/**
 * Runs `fn` in one transaction on one pooled connection; rolls back on any throw. Deadlocks and
 * serialization failures (40P01, 40001) are retried a few times: the transaction did nothing.
 */
export async function transaction<T>(pool: pg.Pool, fn: (sql: Sql) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    let client: pg.PoolClient
    try {
      client = await pool.connect()
    } catch (error) {
      throw storeError(error)
    }
    const sql: Sql = async (text, values) => (await client.query(text, values)).rows
    let broken = false
    try {
      await client.query('BEGIN')
      const result = await fn(sql)
      await client.query('COMMIT')
      return result
    } catch (error) {
      broken = isUnreachable(error)
      if (!broken) await client.query('ROLLBACK').catch(() => (broken = true))
      const code = (error as {code?: string}).code
      if ((code === '40P01' || code === '40001') && attempt < 3) continue
      throw storeError(error)
    } finally {
      client.release(broken)
    }
  }
}
