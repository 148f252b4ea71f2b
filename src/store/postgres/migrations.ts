import type pg from 'pg'
import {GatehouseError} from '../../errors.js'
import type {Migration} from '../migrations.js'

/**
 * The PostgreSQL schema: the same tables as SQLite's (src/store/migrations.ts), times as BIGINT
 * milliseconds, lists as JSON text, plus the change feed: triggers that, in the writing
 * transaction, bump a per-topic version and NOTIFY `gatehouse_changes` with the topic. Only
 * changes a node caches fire them (not last-use times, not codes and refresh tokens). Append only.
 */
export const postgresMigrations: Migration[] = [
  {
    version: 1,
    name: 'the store and its change feed',
    sql: `
      CREATE TABLE clients (
        id                TEXT PRIMARY KEY,
        name              TEXT NOT NULL,
        description       TEXT NOT NULL DEFAULT '',
        secret_hash       TEXT,
        auth_method       TEXT NOT NULL CHECK (auth_method IN ('client_secret_basic','client_secret_post','private_key_jwt','none')),
        jwks              TEXT,
        scopes            TEXT NOT NULL DEFAULT '[]',
        grant_types       TEXT NOT NULL DEFAULT '[]',
        redirect_uris     TEXT NOT NULL DEFAULT '[]',
        access_token_ttl  INTEGER,
        token_rate_limit  INTEGER,
        mcp_rate_limit    INTEGER,
        registration      TEXT NOT NULL CHECK (registration IN ('cli','dynamic','metadata_document')),
        metadata          TEXT NOT NULL DEFAULT '{}',
        created_at        BIGINT NOT NULL,
        last_used_at      BIGINT,
        revoked_at        BIGINT,
        revoked_by        TEXT,
        revoked_reason    TEXT
      );
      CREATE UNIQUE INDEX clients_active_name ON clients(name) WHERE revoked_at IS NULL AND registration = 'cli';
      CREATE INDEX clients_registration ON clients(registration, created_at) WHERE revoked_at IS NULL;

      CREATE TABLE tokens (
        id           TEXT PRIMARY KEY,
        kind         TEXT NOT NULL CHECK (kind IN ('refresh_token','authorization_code','revoked_access_token')),
        client_id    TEXT NOT NULL REFERENCES clients(id),
        family_id    TEXT,
        subject      TEXT,
        scope        TEXT NOT NULL DEFAULT '',
        resource     TEXT,
        data         TEXT NOT NULL DEFAULT '{}',
        created_at   BIGINT NOT NULL,
        expires_at   BIGINT NOT NULL,
        consumed_at  BIGINT,
        revoked_at   BIGINT
      );
      CREATE INDEX tokens_family ON tokens(family_id) WHERE family_id IS NOT NULL;
      CREATE INDEX tokens_client ON tokens(client_id);
      CREATE INDEX tokens_expiry ON tokens(expires_at);

      CREATE TABLE audit (
        id          BIGSERIAL PRIMARY KEY,
        time        BIGINT NOT NULL,
        event       TEXT NOT NULL,
        client_id   TEXT,
        subject     TEXT,
        session_id  TEXT,
        method      TEXT,
        name        TEXT,
        outcome     TEXT NOT NULL,
        duration_ms DOUBLE PRECISION,
        detail      TEXT
      );
      CREATE INDEX audit_time ON audit(time);
      CREATE INDEX audit_client_time ON audit(client_id, time);

      CREATE TABLE signing_keys (
        kid                TEXT PRIMARY KEY,
        alg                TEXT NOT NULL,
        public_jwk         TEXT NOT NULL,
        private_key_store  TEXT NOT NULL CHECK (private_key_store IN ('keychain','file','database')),
        created_at         BIGINT NOT NULL,
        retired_at         BIGINT,
        verify_until       BIGINT,
        seq                BIGSERIAL
      );

      CREATE TABLE used_assertions (
        client_id   TEXT NOT NULL,
        jti         TEXT NOT NULL,
        expires_at  BIGINT NOT NULL,
        PRIMARY KEY (client_id, jti)
      );
      CREATE INDEX used_assertions_expiry ON used_assertions(expires_at);

      CREATE TABLE grants (
        id              TEXT PRIMARY KEY,
        client_id       TEXT NOT NULL REFERENCES clients(id),
        subject         TEXT NOT NULL,
        scope           TEXT NOT NULL,
        resource        TEXT NOT NULL,
        created_at      BIGINT NOT NULL,
        expires_at      BIGINT NOT NULL,
        revoked_at      BIGINT,
        revoked_reason  TEXT
      );
      CREATE INDEX grants_client ON grants(client_id);
      CREATE INDEX grants_revoked ON grants(revoked_at) WHERE revoked_at IS NOT NULL;

      CREATE TABLE consents (
        client_id   TEXT NOT NULL REFERENCES clients(id),
        subject     TEXT NOT NULL,
        scope       TEXT NOT NULL,
        created_at  BIGINT NOT NULL,
        revoked_at  BIGINT
      );
      CREATE UNIQUE INDEX consents_active ON consents(client_id, subject, scope) WHERE revoked_at IS NULL;

      CREATE TABLE owner (
        id             INTEGER PRIMARY KEY CHECK (id = 1),
        password_hash  TEXT NOT NULL,
        updated_at     BIGINT NOT NULL
      );

      CREATE TABLE secrets (
        account  TEXT PRIMARY KEY,
        sealed   TEXT NOT NULL
      );

      -- The change feed. A version per topic, bumped in the writing transaction (so the periodic
      -- check never sees a version before the data), and a NOTIFY delivered at commit.
      CREATE TABLE changes (
        topic    TEXT PRIMARY KEY,
        version  BIGINT NOT NULL
      );
      INSERT INTO changes (topic, version) VALUES
        ('clients', 0), ('signingKeys', 0), ('revokedTokens', 0), ('grants', 0), ('consents', 0), ('owner', 0), ('secrets', 0);
      CREATE FUNCTION gatehouse_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE changes SET version = version + 1 WHERE topic = TG_ARGV[0];
        PERFORM pg_notify('gatehouse_changes', TG_ARGV[0]);
        RETURN NULL;
      END $$;
      -- Last-use times change on every batch of requests and concern no cache.
      CREATE TRIGGER clients_inserted AFTER INSERT OR DELETE ON clients FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_changed('clients');
      CREATE TRIGGER clients_updated AFTER UPDATE ON clients FOR EACH ROW
        WHEN ((to_jsonb(OLD) - 'last_used_at') IS DISTINCT FROM (to_jsonb(NEW) - 'last_used_at')) EXECUTE FUNCTION gatehouse_changed('clients');
      CREATE TRIGGER signing_keys_changed AFTER INSERT OR UPDATE OR DELETE ON signing_keys FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_changed('signingKeys');
      CREATE TRIGGER secrets_changed AFTER INSERT OR UPDATE OR DELETE ON secrets FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_changed('secrets');
      CREATE TRIGGER revoked_tokens_changed AFTER INSERT ON tokens FOR EACH ROW
        WHEN (NEW.kind = 'revoked_access_token') EXECUTE FUNCTION gatehouse_changed('revokedTokens');
      CREATE TRIGGER grants_revoked AFTER UPDATE ON grants FOR EACH ROW
        WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at) EXECUTE FUNCTION gatehouse_changed('grants');
      CREATE TRIGGER consents_changed AFTER INSERT OR UPDATE OR DELETE ON consents FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_changed('consents');
      CREATE TRIGGER owner_changed AFTER INSERT OR UPDATE OR DELETE ON owner FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_changed('owner');
    `,
  },
  {
    version: 2,
    name: 'per-client MCP session caps',
    sql: `
      -- Most MCP sessions this client may hold at once; NULL means the server-wide setting.
      ALTER TABLE clients ADD COLUMN max_sessions INTEGER;
    `,
  },
  {
    version: 3,
    name: 'shared node state: failure budgets, browser sessions, parked authorizations, node heartbeats',
    sql: `
      -- Token buckets of the failure budgets (src/oauth/rate-limit.ts), and the (client, address)
      -- pairs that authenticated; a bucket full again is deleted. A change NOTIFYs 'budgets', so
      -- every node's cache of levels is dropped (src/oauth/shared-budgets.ts).
      CREATE TABLE budgets (key TEXT PRIMARY KEY, tokens DOUBLE PRECISION NOT NULL, at BIGINT NOT NULL, full_at BIGINT NOT NULL);
      CREATE INDEX budgets_full ON budgets(full_at);
      CREATE TABLE budget_trust (pair TEXT PRIMARY KEY, at BIGINT NOT NULL);
      INSERT INTO changes (topic, version) VALUES ('budgets', 0);
      CREATE TRIGGER budgets_changed AFTER INSERT OR UPDATE OR DELETE ON budgets FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_changed('budgets');
      -- Consent-page sessions (by the SHA-256 of the cookie) and the requests parked in them.
      CREATE TABLE browser_sessions (
        id TEXT PRIMARY KEY, csrf TEXT NOT NULL, owner_at BIGINT, address TEXT NOT NULL,
        expires_at BIGINT NOT NULL, used_at BIGINT NOT NULL
      );
      CREATE INDEX browser_sessions_address ON browser_sessions(address, used_at) WHERE owner_at IS NULL;
      CREATE INDEX browser_sessions_used ON browser_sessions((owner_at IS NULL), used_at);
      CREATE TABLE pending_authorizations (
        id TEXT PRIMARY KEY, session_id TEXT NOT NULL REFERENCES browser_sessions(id) ON DELETE CASCADE,
        request TEXT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL
      );
      CREATE INDEX pending_authorizations_session ON pending_authorizations(session_id, created_at);
      -- One heartbeat row per running daemon (gatehouse status).
      CREATE TABLE nodes (
        id TEXT PRIMARY KEY, url TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL, version TEXT NOT NULL,
        started_at BIGINT NOT NULL, seen_at BIGINT NOT NULL
      );
    `,
  },
  {
    version: 4,
    name: 'users: people who approve clients; the owner becomes the first user',
    // As SQLite's migration 8 (src/store/migrations.ts), plus the change feed's 'users' topic.
    sql: `
      CREATE TABLE users (
        id             TEXT PRIMARY KEY,
        name           TEXT NOT NULL UNIQUE,
        role           TEXT NOT NULL CHECK (role IN ('owner','member')),
        password_hash  TEXT,
        created_at     BIGINT NOT NULL,
        disabled_at    BIGINT
      );
      CREATE INDEX users_role ON users(role, created_at) WHERE disabled_at IS NULL;
      CREATE TABLE user_identities (
        issuer         TEXT NOT NULL,
        subject        TEXT NOT NULL,
        user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        email          TEXT,
        created_at     BIGINT NOT NULL,
        last_login_at  BIGINT NOT NULL,
        PRIMARY KEY (issuer, subject)
      );
      CREATE INDEX user_identities_user ON user_identities(user_id);
      CREATE INDEX grants_subject ON grants(subject) WHERE revoked_at IS NULL;
      CREATE INDEX consents_subject ON consents(subject) WHERE revoked_at IS NULL;

      INSERT INTO users (id, name, role, password_hash, created_at)
        SELECT 'usr_' || md5(random()::text || clock_timestamp()::text), 'owner', 'owner',
               (SELECT password_hash FROM owner WHERE id = 1),
               coalesce((SELECT updated_at FROM owner WHERE id = 1), (SELECT min(created_at) FROM grants), (SELECT min(created_at) FROM consents), 0)
        WHERE EXISTS (SELECT 1 FROM owner) OR EXISTS (SELECT 1 FROM grants WHERE subject = 'owner') OR EXISTS (SELECT 1 FROM consents WHERE subject = 'owner');
      UPDATE grants SET subject = (SELECT id FROM users WHERE name = 'owner') WHERE subject = 'owner';
      UPDATE consents SET subject = (SELECT id FROM users WHERE name = 'owner') WHERE subject = 'owner';
      UPDATE tokens SET subject = (SELECT id FROM users WHERE name = 'owner') WHERE subject = 'owner';
      DROP TABLE owner;

      INSERT INTO changes (topic, version) VALUES ('users', 0);
      CREATE TRIGGER users_changed AFTER INSERT OR UPDATE OR DELETE ON users FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_changed('users');
      CREATE TRIGGER user_identities_changed AFTER INSERT OR DELETE ON user_identities FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_changed('users');
      -- The person a logged-in browser session belongs to (shared sessions).
      ALTER TABLE browser_sessions ADD COLUMN user_id TEXT;
    `,
  },
]

/** Any fixed number: the advisory lock under which nodes starting together migrate one at a time. */
const MIGRATION_LOCK = 0x6761_7465 // "gate"

/**
 * Brings the schema up to date under a session advisory lock: two nodes starting at once apply
 * each migration once (the second waits, then finds nothing to do). Refuses a database written
 * by a newer Gatehouse (SCHEMA_TOO_NEW, the exit status SQLite uses too).
 */
export async function migratePostgres(client: pg.ClientBase, now: number, describe: string, list: Migration[] = postgresMigrations): Promise<void> {
  const latest = list.at(-1)?.version ?? 0
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK])
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`)
    const {rows} = await client.query<{v: number | null}>('SELECT max(version) AS v FROM migrations')
    const from = rows[0]?.v ?? 0
    if (from > latest) {
      throw new GatehouseError('SCHEMA_TOO_NEW', `the database ${describe} has schema version ${from}, newer than this gatehouse knows (${latest}); upgrade gatehouse`)
    }
    if (from === latest) return
    await client.query('BEGIN')
    try {
      for (const m of list) {
        if (m.version <= from) continue
        await client.query(m.sql)
        await client.query('INSERT INTO migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, now])
      }
      await client.query('COMMIT')
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {})
      throw error
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {})
  }
}
