import type {Clock} from '../clock.js'
import {systemClock} from '../clock.js'
import type {Store} from './types.js'

/** TLS to PostgreSQL, as libpq names it (https://www.postgresql.org/docs/15/libpq-ssl.html). */
export type SslMode = 'disable' | 'prefer' | 'require' | 'verify-ca' | 'verify-full'

export interface PostgresOptions {
  /** Overrides the URL's sslmode. */
  sslMode?: SslMode | undefined
  /** PEM file of the CA(s) that sign the server's certificate (verify-ca, verify-full). */
  caFile?: string | undefined
  /** Most connections this process holds (default 10). */
  poolMax?: number | undefined
  /** How long to wait for a connection, ms (default 5000). */
  connectTimeoutMs?: number | undefined
  /** Longest statement, ms, enforced by the server (default 10000). */
  statementTimeoutMs?: number | undefined
  /** How often the change version is compared as a safety net for LISTEN/NOTIFY, ms (default 1000). */
  versionCheckMs?: number | undefined
}

export interface StoreConfig {
  /** The data dir: the SQLite file lives here (and, on PostgreSQL, nothing but the vault fallbacks). */
  dataDir: string
  /** postgres://... (or postgresql://...): the shared store of several daemons; unset: SQLite. */
  databaseUrl?: string | undefined
  postgres?: PostgresOptions | undefined
  clock?: Clock | undefined
  /** Whether to hear other processes' changes (daemons: yes; a CLI command that runs and exits: no). Default yes. */
  watch?: boolean | undefined
  /**
   * The key-encryption key's file (--key-encryption-key-file). On PostgreSQL, when given, it is
   * checked against the database as the store opens, before the caller can write anything:
   * the daemon and every command refuse a wrong key the same way. Ignored on SQLite.
   */
  keyEncryptionKeyFile?: string | undefined
}

/**
 * The one place a store is chosen and opened, for the daemon (createServer) and every CLI
 * command: PostgreSQL when a database URL is given, else SQLite in the data dir. Opening
 * migrates; a schema newer than this build is refused (SCHEMA_TOO_NEW) on both.
 *
 * Errors: GatehouseError STORAGE / SCHEMA_TOO_NEW (both), DATABASE_UNREACHABLE and
 * DATABASE_REFUSED (PostgreSQL: nothing answers; it answers but refuses us), INVALID_INPUT for a
 * URL that is not postgres://; with a key-encryption key file on PostgreSQL, CONFIG when the file
 * is unreadable or not 32 bytes of base64 (read before connecting) and KEY_ENCRYPTION when it
 * is not the key of this database (src/secrets/sealed-vault.ts checkKeyEncryptionKey; the store
 * is closed again, nothing written).
 */
export async function openStore(config: StoreConfig): Promise<Store> {
  const clock = config.clock ?? systemClock
  if (config.databaseUrl) {
    // Loaded only when asked for: the SQLite path never loads the PostgreSQL client.
    const [{openPostgresStore}, {readKeyEncryptionKey, checkKeyEncryptionKey}] = await Promise.all([import('./postgres/store.js'), import('../secrets/sealed-vault.js')])
    const kek = config.keyEncryptionKeyFile ? readKeyEncryptionKey(config.keyEncryptionKeyFile) : undefined
    const store = await openPostgresStore(config.databaseUrl, {...config.postgres, clock, listen: config.watch !== false})
    if (kek) {
      try {
        await checkKeyEncryptionKey(store.secrets, kek, store.describe())
      } catch (error) {
        await store.close()
        throw error
      }
    }
    return store
  }
  const {openSqliteStore} = await import('./sqlite/store.js')
  return openSqliteStore(config.dataDir, {clock})
}

/** Whether the store is shared by several processes over the network (then secrets go into it, sealed). */
export const isSharedStore = (config: StoreConfig) => Boolean(config.databaseUrl)
