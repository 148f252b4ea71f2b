import {ensureDataDir, databaseFile} from '../../config/paths.js'
import type {Clock} from '../../clock.js'
import {systemClock} from '../../clock.js'
import {migrate} from '../migrations.js'
import type {Store} from '../types.js'
import {createSqliteAudit} from './audit.js'
import {createSqliteClients} from './clients.js'
import {openDatabase, storageError} from './open.js'
import {createSqliteSigningKeys} from './signing-keys.js'
import {createSqliteTokens} from './tokens.js'
import {createSqliteConsents} from './consents.js'
import {createSqliteGrants} from './grants.js'
import {createSqliteOwner, createSqliteUsers} from './users.js'
import {newUserId} from '../user-id.js'
import {createSqliteRegisteredClients} from './registered-clients.js'
import {createSqliteSecrets} from './secrets.js'
import {announceWrites} from '../announce.js'
import {createSqliteBudgets} from './budgets.js'
import {createSqliteBrowserSessions} from './browser-sessions.js'
import {createSqliteNodes} from './nodes.js'
import {createChangeFeed} from '../changes.js'

export interface SqliteStore extends Store {
  readonly file: string
}

/** The SQLite store in a data dir: creates the dir (0700) and file (0600), migrates, prepares. */
export function openSqliteStore(dataDir: string, {clock = systemClock}: {clock?: Clock} = {}): SqliteStore {
  ensureDataDir(dataDir)
  const file = databaseFile(dataDir)
  const db = openDatabase(file)
  try {
    migrate(db, clock.now())
  } catch (error) {
    db.close()
    throw storageError(file, error)
  }
  const dataVersion = db.prepare('PRAGMA data_version').pluck()
  // Another process's commit moves data_version (this connection's own do not: those are
  // announced by announceWrites). Asked several times per request (clients, keys, revocations):
  // read once per turn of the event loop, so another process's commit is seen from the next turn.
  let seen = dataVersion.get() as number
  let checkedThisTurn = false
  const feed = createChangeFeed(() => {
    if (checkedThisTurn || !db.open) return
    checkedThisTurn = true
    setImmediate(() => (checkedThisTurn = false))
    const now = dataVersion.get() as number
    if (now !== seen) {
      seen = now
      feed.emit('all')
    }
  })
  const repos = announceWrites(
    {
      audit: createSqliteAudit(db),
      clients: createSqliteClients(db),
      signingKeys: createSqliteSigningKeys(db),
      tokens: createSqliteTokens(db),
      grants: createSqliteGrants(db),
      consents: createSqliteConsents(db),
      owner: createSqliteOwner(db, newUserId),
      users: createSqliteUsers(db),
      registeredClients: createSqliteRegisteredClients(db),
      secrets: createSqliteSecrets(db),
      budgets: createSqliteBudgets(db),
      browserSessions: createSqliteBrowserSessions(db),
      nodes: createSqliteNodes(db),
    },
    feed,
  )
  const ping = db.prepare('SELECT 1').pluck()
  return {
    file,
    ...repos,
    changes: feed,
    describe: () => `sqlite ${file}`,
    async ping() {
      ping.get()
    },
    async close() {
      if (db.open) db.close()
    },
  }
}
