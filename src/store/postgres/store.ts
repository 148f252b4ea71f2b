import {systemClock, type Clock} from '../../clock.js'
import {announceWrites} from '../announce.js'
import {createChangeFeed} from '../changes.js'
import type {PostgresOptions} from '../open-store.js'
import type {Store} from '../types.js'
import {createPostgresAudit} from './audit.js'
import {createPostgresClients, createPostgresRegisteredClients} from './clients.js'
import {connectError, connectPostgres, poolSql} from './connect.js'
import {createPostgresConsents} from './consents.js'
import {createPostgresOwner, createPostgresUsers} from './users.js'
import {newUserId} from '../user-id.js'
import {createPostgresGrants} from './grants.js'
import {createPostgresSigningKeys, createPostgresSecrets} from './keys.js'
import {listenForChanges} from './listen.js'
import {migratePostgres} from './migrations.js'
import {createPostgresTokens} from './tokens.js'
import {createPostgresBudgets} from './budgets.js'
import {createPostgresBrowserSessions} from './browser-sessions.js'
import {createPostgresNodes} from './nodes.js'

export interface PostgresStore extends Store {
  /** Whether other nodes' changes are being heard (the LISTEN connection is up). */
  listening(): boolean
}

/**
 * The store on PostgreSQL, shared by several daemons and the CLI: connects (a bounded pool),
 * migrates under an advisory lock, and starts listening for other nodes' changes.
 *
 * Errors: DATABASE_UNREACHABLE (exit 12), DATABASE_REFUSED (13), SCHEMA_TOO_NEW (7),
 * INVALID_INPUT / CONFIG for a bad URL, sslmode or CA file.
 */
export async function openPostgresStore(url: string, options: PostgresOptions & {clock?: Clock; listen?: boolean} = {}): Promise<PostgresStore> {
  const clock = options.clock ?? systemClock
  const connection = connectPostgres(url, options)
  const {pool, describe} = connection
  try {
    const client = await pool.connect().catch((error: unknown) => {
      throw connectError(describe, error)
    })
    try {
      await migratePostgres(client, clock.now(), describe)
    } catch (error) {
      throw connectError(describe, error)
    } finally {
      client.release()
    }
  } catch (error) {
    await pool.end().catch(() => {})
    throw error
  }
  const sql = poolSql(pool)
  const feed = createChangeFeed()
  let listener: Awaited<ReturnType<typeof listenForChanges>> | undefined
  if (options.listen !== false) {
    try {
      listener = await listenForChanges({connection, sql, feed, versionCheckMs: options.versionCheckMs, clock})
    } catch (error) {
      await pool.end().catch(() => {})
      throw connectError(describe, error)
    }
  }
  const clients = createPostgresClients(sql)
  const repos = announceWrites(
    {
      audit: createPostgresAudit(sql),
      clients,
      signingKeys: createPostgresSigningKeys(sql, pool),
      tokens: createPostgresTokens(sql),
      grants: createPostgresGrants(sql, pool),
      consents: createPostgresConsents(sql, pool),
      owner: createPostgresOwner(sql, pool, newUserId),
      users: createPostgresUsers(sql, pool),
      registeredClients: createPostgresRegisteredClients(sql, clients),
      secrets: createPostgresSecrets(sql),
      budgets: createPostgresBudgets(sql, pool),
      browserSessions: createPostgresBrowserSessions(sql, pool),
      nodes: createPostgresNodes(sql),
    },
    feed,
  )
  let closing: Promise<void> | undefined
  return {
    ...repos,
    changes: feed,
    describe: () => `postgresql ${describe}`,
    async ping() {
      await sql('SELECT 1')
    },
    listening: () => listener?.connected() ?? false,
    close: () =>
      (closing ??= (async () => {
        await listener?.close()
        await pool.end().catch(() => {})
      })()),
  }
}
