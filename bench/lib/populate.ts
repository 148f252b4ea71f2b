import {createHash, randomBytes} from 'node:crypto'
import {join} from 'node:path'
import Database from 'better-sqlite3'

/**
 * Fills a Gatehouse store (<data-dir>/gatehouse.db, created and migrated by the CLI beforehand)
 * directly with better-sqlite3, in one transaction: `clients` extra active clients, `revocations`
 * rows of kind 'revoked_access_token' in `tokens` (unexpired, spread over the clients), and
 * `audit` rows (spread over the last 30 days). Columns follow src/store/migrations.ts.
 */
export interface PopulateCounts {
  clients: number
  revocations: number
  audit: number
}

export function populate(dataDir: string, n: PopulateCounts): {seconds: number; bytes: number} {
  const t0 = performance.now()
  const db = new Database(join(dataDir, 'gatehouse.db'))
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = OFF')
  const now = Date.now()
  const ids: string[] = []
  const insClient = db.prepare(
    `INSERT INTO clients (id, name, description, secret_hash, auth_method, scopes, grant_types, redirect_uris, registration, created_at)
     VALUES (?, ?, '', ?, 'client_secret_basic', '["mcp"]', '["client_credentials"]', '[]', 'cli', ?)`,
  )
  const insToken = db.prepare(
    `INSERT INTO tokens (id, kind, client_id, scope, created_at, expires_at, revoked_at)
     VALUES (?, 'revoked_access_token', ?, 'mcp', ?, ?, ?)`,
  )
  const insAudit = db.prepare(
    `INSERT INTO audit (time, event, client_id, method, name, outcome, duration_ms)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  )
  const events = [
    ['token.issued', null, null, 'ok'],
    ['mcp.request', 'tools/call', 'echo', 'ok'],
    ['mcp.request', 'tools/list', null, 'ok'],
    ['token.refused', null, null, 'invalid_client'],
  ] as const
  db.transaction(() => {
    for (const row of db.prepare('SELECT id FROM clients').all() as {id: string}[]) ids.push(row.id)
    for (let i = 0; i < n.clients; i++) {
      const id = 'gtc_' + randomBytes(16).toString('base64url')
      const secret = createHash('sha256').update(randomBytes(32)).digest('hex')
      insClient.run(id, `filler-${i}`, secret, now - (n.clients - i) * 1000)
      ids.push(id)
    }
    const seed = randomBytes(8).toString('hex')
    for (let i = 0; i < n.revocations; i++) {
      const created = now - ((i * 7) % 3_000_000)
      insToken.run(`${seed}-${i}`, ids[i % ids.length]!, created, now + 3_600_000 + (i % 3_600_000), created + 1000)
    }
    for (let i = 0; i < n.audit; i++) {
      const e = events[i % events.length]!
      insAudit.run(now - ((i * 2593) % 2_592_000_000), e[0], ids[(i * 31) % ids.length]!, e[1], e[2], e[3], 0.3)
    }
  })()
  db.pragma('wal_checkpoint(TRUNCATE)')
  const bytes = (db.prepare('SELECT page_count * page_size AS b FROM pragma_page_count(), pragma_page_size()').get() as {b: number}).b
  db.close()
  return {seconds: (performance.now() - t0) / 1000, bytes}
}
