import type Database from 'better-sqlite3'
import {GatehouseError} from '../errors.js'

/**
 * Versioned schema migrations, applied in order inside one immediate transaction, each recorded
 * in the `migrations` table. Append only: never edit a migration that has shipped.
 *
 * Times are integer milliseconds since the epoch; lists are JSON arrays in TEXT columns.
 */
export interface Migration {
  version: number
  name: string
  sql: string
}

/**
 * Issue 17: people. The owner (its one-row table) becomes the first user, role owner, and every
 * grant, consent and refresh token whose subject was 'owner' now names that user's id, so every
 * approval given before keeps working. A database with approvals but no owner password (made
 * with --auto-approve) gets the owner user too, without a password. The owner table goes: one
 * place for a password hash.
 */
const USERS_MIGRATION_SQLITE = `
  CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    role           TEXT NOT NULL CHECK (role IN ('owner','member')),
    password_hash  TEXT,
    created_at     INTEGER NOT NULL,
    disabled_at    INTEGER
  ) STRICT;
  CREATE INDEX users_role ON users(role, created_at) WHERE disabled_at IS NULL;

  -- An upstream OpenID Connect identity: (issuer, sub) is the only stable key (OIDC Core §5.7).
  CREATE TABLE user_identities (
    issuer         TEXT NOT NULL,
    subject        TEXT NOT NULL,
    user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    email          TEXT,
    created_at     INTEGER NOT NULL,
    last_login_at  INTEGER NOT NULL,
    PRIMARY KEY (issuer, subject)
  ) STRICT;
  CREATE INDEX user_identities_user ON user_identities(user_id);
  CREATE INDEX grants_subject ON grants(subject) WHERE revoked_at IS NULL;
  CREATE INDEX consents_subject ON consents(subject) WHERE revoked_at IS NULL;

  INSERT INTO users (id, name, role, password_hash, created_at)
    SELECT 'usr_' || lower(hex(randomblob(16))), 'owner', 'owner',
           (SELECT password_hash FROM owner WHERE id = 1),
           coalesce((SELECT updated_at FROM owner WHERE id = 1), (SELECT min(created_at) FROM grants), (SELECT min(created_at) FROM consents), 0)
    WHERE EXISTS (SELECT 1 FROM owner) OR EXISTS (SELECT 1 FROM grants WHERE subject = 'owner') OR EXISTS (SELECT 1 FROM consents WHERE subject = 'owner');
  UPDATE grants SET subject = (SELECT id FROM users WHERE name = 'owner') WHERE subject = 'owner';
  UPDATE consents SET subject = (SELECT id FROM users WHERE name = 'owner') WHERE subject = 'owner';
  UPDATE tokens SET subject = (SELECT id FROM users WHERE name = 'owner') WHERE subject = 'owner';
  DROP TABLE owner;
`

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'clients, tokens, audit',
    sql: `
      CREATE TABLE clients (
        id                TEXT PRIMARY KEY,
        name              TEXT NOT NULL,
        description       TEXT NOT NULL DEFAULT '',
        secret_hash       TEXT,
        auth_method       TEXT NOT NULL
                          CHECK (auth_method IN ('client_secret_basic','client_secret_post','private_key_jwt','none')),
        jwks              TEXT,
        scopes            TEXT NOT NULL DEFAULT '[]',
        grant_types       TEXT NOT NULL DEFAULT '[]',
        redirect_uris     TEXT NOT NULL DEFAULT '[]',
        access_token_ttl  INTEGER,
        registration      TEXT NOT NULL CHECK (registration IN ('cli','dynamic','metadata_document')),
        metadata          TEXT NOT NULL DEFAULT '{}',
        created_at        INTEGER NOT NULL,
        last_used_at      INTEGER,
        revoked_at        INTEGER,
        revoked_by        TEXT,
        revoked_reason    TEXT
      ) STRICT;
      -- Names are unique among active clients only: a revoked name may be reused.
      CREATE UNIQUE INDEX clients_active_name ON clients(name) WHERE revoked_at IS NULL;

      -- Tokens the server must remember: refresh tokens and authorization codes (by hash),
      -- and revoked access tokens (by jti) until they expire. family_id ties every token
      -- descended from one grant, so one statement revokes a whole family.
      CREATE TABLE tokens (
        id           TEXT PRIMARY KEY,
        kind         TEXT NOT NULL CHECK (kind IN ('refresh_token','authorization_code','revoked_access_token')),
        client_id    TEXT NOT NULL REFERENCES clients(id),
        family_id    TEXT,
        subject      TEXT,
        scope        TEXT NOT NULL DEFAULT '',
        resource     TEXT,
        data         TEXT NOT NULL DEFAULT '{}',
        created_at   INTEGER NOT NULL,
        expires_at   INTEGER NOT NULL,
        consumed_at  INTEGER,
        revoked_at   INTEGER
      ) STRICT;
      CREATE INDEX tokens_family ON tokens(family_id) WHERE family_id IS NOT NULL;
      CREATE INDEX tokens_client ON tokens(client_id);
      CREATE INDEX tokens_expiry ON tokens(expires_at);

      CREATE TABLE audit (
        id          INTEGER PRIMARY KEY,
        time        INTEGER NOT NULL,
        event       TEXT NOT NULL,
        client_id   TEXT,
        subject     TEXT,
        session_id  TEXT,
        method      TEXT,
        name        TEXT,
        outcome     TEXT NOT NULL,
        duration_ms REAL,
        detail      TEXT
      ) STRICT;
      CREATE INDEX audit_time ON audit(time);
      CREATE INDEX audit_client_time ON audit(client_id, time);
    `,
  },
  {
    version: 2,
    name: 'signing keys, used client assertions',
    sql: `
      -- Token signing keys. The private key lives in the OS keychain or the 0600 secrets file
      -- (private_key_store says which); only the public JWK is here. The newest key without
      -- retired_at signs; a retired key is still published and verifies until verify_until.
      CREATE TABLE signing_keys (
        kid                TEXT PRIMARY KEY,
        alg                TEXT NOT NULL,
        public_jwk         TEXT NOT NULL,
        private_key_store  TEXT NOT NULL CHECK (private_key_store IN ('keychain','file')),
        created_at         INTEGER NOT NULL,
        retired_at         INTEGER,
        verify_until       INTEGER
      ) STRICT;

      -- RFC 7523 §3: the jti of every accepted client assertion, until it expires, so that an
      -- assertion is accepted once.
      CREATE TABLE used_assertions (
        client_id   TEXT NOT NULL,
        jti         TEXT NOT NULL,
        expires_at  INTEGER NOT NULL,
        PRIMARY KEY (client_id, jti)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX used_assertions_expiry ON used_assertions(expires_at);
    `,
  },
  {
    version: 3,
    name: 'interactive authorization: grants, consents, owner; registered clients may share names',
    sql: `
      -- Registered clients (RFC 7591, metadata documents) may share a name (many "Claude Code"s);
      -- only clients made with the CLI keep unique active names.
      DROP INDEX clients_active_name;
      CREATE UNIQUE INDEX clients_active_name ON clients(name) WHERE revoked_at IS NULL AND registration = 'cli';
      CREATE INDEX clients_registration ON clients(registration, created_at) WHERE revoked_at IS NULL;

      -- One authorization by the owner of one client: codes, refresh tokens (tokens.family_id)
      -- and access tokens (the gid claim) point here, so revoking a grant revokes them all.
      CREATE TABLE grants (
        id              TEXT PRIMARY KEY,
        client_id       TEXT NOT NULL REFERENCES clients(id),
        subject         TEXT NOT NULL,
        scope           TEXT NOT NULL,
        resource        TEXT NOT NULL,
        created_at      INTEGER NOT NULL,
        expires_at      INTEGER NOT NULL,
        revoked_at      INTEGER,
        revoked_reason  TEXT
      ) STRICT;
      CREATE INDEX grants_client ON grants(client_id);
      CREATE INDEX grants_revoked ON grants(revoked_at) WHERE revoked_at IS NOT NULL;

      -- What the owner approved, per client and scope set; revocable.
      CREATE TABLE consents (
        client_id   TEXT NOT NULL REFERENCES clients(id),
        subject     TEXT NOT NULL,
        scope       TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        revoked_at  INTEGER
      ) STRICT;
      CREATE UNIQUE INDEX consents_active ON consents(client_id, subject, scope) WHERE revoked_at IS NULL;

      -- The owner who approves interactive clients: one row, a slow password hash.
      CREATE TABLE owner (
        id             INTEGER PRIMARY KEY CHECK (id = 1),
        password_hash  TEXT NOT NULL,
        updated_at     INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 4,
    name: 'per-client request rate limits',
    sql: `
      -- Requests per minute; NULL means the server-wide setting (which is off unless set).
      ALTER TABLE clients ADD COLUMN token_rate_limit INTEGER;
      ALTER TABLE clients ADD COLUMN mcp_rate_limit INTEGER;
    `,
  },
  {
    version: 5,
    name: 'sealed secrets',
    sql: `
      -- Secrets kept in the store, sealed (AES-256-GCM) before they get here; the same table as
      -- on PostgreSQL, so one contract holds for both (src/store/types.ts SecretRepository).
      CREATE TABLE secrets (
        account     TEXT PRIMARY KEY,
        sealed      TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 6,
    name: 'per-client MCP session caps',
    sql: `
      -- Most MCP sessions this client may hold at once; NULL means the server-wide setting.
      ALTER TABLE clients ADD COLUMN max_sessions INTEGER;
    `,
  },
  {
    version: 7,
    name: 'shared node state: failure budgets, browser sessions, parked authorizations, node heartbeats',
    sql: `
      -- Token buckets of the failure budgets (src/oauth/rate-limit.ts), and the (client, address)
      -- pairs that authenticated; a bucket full again is deleted.
      CREATE TABLE budgets (key TEXT PRIMARY KEY, tokens REAL NOT NULL, at INTEGER NOT NULL, full_at INTEGER NOT NULL) STRICT, WITHOUT ROWID;
      CREATE INDEX budgets_full ON budgets(full_at);
      CREATE TABLE budget_trust (pair TEXT PRIMARY KEY, at INTEGER NOT NULL) STRICT, WITHOUT ROWID;
      -- Consent-page sessions (by the SHA-256 of the cookie) and the requests parked in them.
      CREATE TABLE browser_sessions (
        id TEXT PRIMARY KEY, csrf TEXT NOT NULL, owner_at INTEGER, address TEXT NOT NULL,
        expires_at INTEGER NOT NULL, used_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX browser_sessions_address ON browser_sessions(address, used_at) WHERE owner_at IS NULL;
      CREATE INDEX browser_sessions_used ON browser_sessions(owner_at IS NULL, used_at);
      CREATE TABLE pending_authorizations (
        id TEXT PRIMARY KEY, session_id TEXT NOT NULL REFERENCES browser_sessions(id) ON DELETE CASCADE,
        request TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX pending_authorizations_session ON pending_authorizations(session_id, created_at);
      -- One heartbeat row per running daemon (gatehouse status).
      CREATE TABLE nodes (
        id TEXT PRIMARY KEY, url TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL, version TEXT NOT NULL,
        started_at INTEGER NOT NULL, seen_at INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 8,
    name: 'users: people who approve clients; the owner becomes the first user',
    sql: USERS_MIGRATION_SQLITE + `
      -- The person a logged-in browser session belongs to (shared sessions, src/oauth/authorize/shared-sessions.ts).
      ALTER TABLE browser_sessions ADD COLUMN user_id TEXT;
    `,
  },
]

export const latestVersion = migrations.at(-1)!.version

/** Brings the schema up to date; refuses a database written by a newer Gatehouse. */
export function migrate(db: Database.Database, now: number, list: Migration[] = migrations): void {
  const latest = list.at(-1)?.version ?? 0
  db.exec(`CREATE TABLE IF NOT EXISTS migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`)
  const current = () => (db.prepare('SELECT max(version) AS v FROM migrations').get() as {v: number | null}).v ?? 0
  const check = (version: number) => {
    if (version > latest) {
      throw new GatehouseError(
        'SCHEMA_TOO_NEW',
        `the database ${db.name} has schema version ${version}, newer than this gatehouse knows (${latest}); upgrade gatehouse`,
      )
    }
  }
  check(current())
  if (current() === latest) return
  // Immediate: the CLI and a daemon starting together must not both apply a migration.
  db.transaction(() => {
    const from = current()
    check(from)
    const record = db.prepare('INSERT INTO migrations (version, name, applied_at) VALUES (?, ?, ?)')
    for (const m of list) {
      if (m.version <= from) continue
      db.exec(m.sql)
      record.run(m.version, m.name, now)
    }
  }).immediate()
}
