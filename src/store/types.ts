/**
 * The storage interface every part of Gatehouse talks to. It is asynchronous so that a
 * networked store (PostgreSQL, for several daemons behind one issuer) can implement it; the
 * SQLite implementation answers from a local file.
 *
 * Repositories are dumb and neutral: find, insert, consume once, revoke by family. They throw
 * the store's own errors (src/store/errors.ts), never a driver's codes.
 */
import type {StoreChanges} from './changes.js'


/** How the client authenticates at the token endpoint (RFC 7591 §2 names). */
export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none'

/** Where the client came from. */
export type RegistrationKind = 'cli' | 'dynamic' | 'metadata_document'

export interface ClientRecord {
  id: string
  name: string
  description: string
  /** Hex SHA-256 of the secret; null for clients without one (public, private_key_jwt). */
  secretHash: string | null
  authMethod: TokenEndpointAuthMethod
  /** Public keys for private_key_jwt (a JWKS document), else null. */
  jwks: {keys: Record<string, unknown>[]} | null
  scopes: string[]
  grantTypes: string[]
  redirectUris: string[]
  /** Access token lifetime in seconds; null means the server's default. */
  accessTokenTtl: number | null
  /** Token requests per minute; null means the server-wide setting (off unless set). */
  tokenRateLimit: number | null
  /** MCP requests per minute; null means the server-wide setting (off unless set). */
  mcpRateLimit: number | null
  /** Most MCP sessions at once; null (or absent) means the server-wide per-client cap. */
  maxSessions?: number | null
  registration: RegistrationKind
  /** Further registration metadata (client_uri, logo_uri, software_id, ...). */
  metadata: Record<string, unknown>
  createdAt: number
  lastUsedAt: number | null
  revokedAt: number | null
  revokedBy: string | null
  revokedReason: string | null
}

export type NewClient = Omit<ClientRecord, 'lastUsedAt' | 'revokedAt' | 'revokedBy' | 'revokedReason'>

export interface ClientRepository {
  insert(client: NewClient): Promise<void>
  findById(id: string): Promise<ClientRecord | undefined>
  /** Active (not revoked) clients with this exact name. */
  findActiveByName(name: string): Promise<ClientRecord[]>
  list(options: {includeRevoked: boolean}): Promise<ClientRecord[]>
  /**
   * The same list as the JSON array `oauth-list-clients --json` prints (src/cli/client-view.ts
   * `clientJson`), built by the database: with 10,000 clients that is several times faster than
   * building objects in JavaScript, and CLI cold start is measured (bench scenario 6).
   */
  listJson(options: {includeRevoked: boolean}): Promise<string>
  /** Marks the client revoked; false when it does not exist or was already revoked. */
  revoke(id: string, revocation: {at: number; by: string; reason: string | null}): Promise<boolean>
  /** Records last-use times, in one write (the daemon batches these off the hot path). */
  touch(lastUsed: ReadonlyMap<string, number>): Promise<void>
}

export interface SigningKeyRecord {
  kid: string
  alg: string
  publicJwk: Record<string, unknown>
  /** Where the private part is: the OS keychain, the 0600 secrets file, or sealed in the database (PostgreSQL). */
  privateKeyStore: 'keychain' | 'file' | 'database'
  createdAt: number
  retiredAt: number | null
  verifyUntil: number | null
}

export interface SigningKeyRepository {
  /** Every key, newest first. */
  list(): Promise<SigningKeyRecord[]>
  /** Adds a key and retires every active one, in one transaction: the new key signs at once. */
  rotate(key: SigningKeyRecord, retire: {at: number; verifyUntil: number}): Promise<void>
  /** Deletes keys that no longer verify anything; returns them, so their private parts can go too. */
  prune(now: number): Promise<SigningKeyRecord[]>
}

export interface TokenRepository {
  /** Records a revoked access token (by jti) until it expires. */
  revokeAccessToken(entry: {jti: string; clientId: string; expiresAt: number; at: number}): Promise<void>
  /** The jtis of revoked access tokens that have not expired yet. */
  revokedAccessTokens(now: number): Promise<string[]>
  /**
   * Records a client assertion's jti; false when it was already used (RFC 7523 §3 replay).
   */
  useAssertion(entry: {clientId: string; jti: string; expiresAt: number}): Promise<boolean>
  /** Deletes what has expired (revocation records, used assertions); returns how many rows went. */
  pruneExpired(now: number): Promise<number>
}

/** One line of the audit trail. */
export interface AuditEvent {
  time: number
  /** e.g. mcp.request, token.issued, token.refused, token.revoked, client.created, client.revoked */
  event: string
  clientId: string | null
  subject?: string | null
  sessionId?: string | null
  /** The MCP method, grant type or admin verb. */
  method?: string | null
  /** The tool, resource or prompt, where there is one. */
  name?: string | null
  /** ok, or what went wrong: an OAuth error code, forbidden, rate_limited, error, ... */
  outcome: string
  durationMs?: number | null
  detail?: Record<string, unknown> | null
}

export interface AuditRecord extends AuditEvent {
  id: number
}

export interface AuditFilter {
  clientId?: string
  /** Whom the events are for: a user's id, or a client's. */
  subject?: string
  since?: number
  afterId?: number
  beforeId?: number
  event?: string
  outcome?: string
  limit?: number
  newestFirst?: boolean
}

export interface AuditCount {
  clientId: string | null
  /** Start of the slot, ms since the epoch. */
  bucket: number
  event: string
  outcome: string
  count: number
}

export interface AuditRepository {
  append(events: readonly AuditEvent[]): Promise<void>
  /**
   * Oldest first (`newestFirst` turns it round). `afterId` for following, `beforeId` for paging
   * back; `event` and `outcome` match exactly; `limit` caps the answer.
   */
  query(filter: AuditFilter): Promise<AuditRecord[]>
  /**
   * How many events there are since `since` (ms), per client, per `bucketMs`-wide slot (its
   * start, ms since the epoch), event and outcome; for the console's charts (src/console/).
   */
  counts(filter: {since: number; bucketMs: number; clientId?: string}): Promise<AuditCount[]>
  /** Deletes events older than `before`; returns how many. */
  prune(before: number): Promise<number>
}

/** One authorization of a client by the owner (src/oauth/grants/*): codes, refresh tokens and access tokens point here. */
export interface GrantRecord {
  id: string
  clientId: string
  subject: string
  scopes: string[]
  resource: string
  createdAt: number
  expiresAt: number
  revokedAt: number | null
}

/** An authorization code, stored by the SHA-256 of its value. */
export interface AuthorizationCodeRecord {
  hash: string
  grantId: string
  clientId: string
  redirectUri: string
  /** Whether the authorization request carried redirect_uri (then the token request must too). */
  redirectUriGiven: boolean
  codeChallenge: string
  scopes: string[]
  resource: string
  createdAt: number
  expiresAt: number
}

/** A refresh token, stored by the SHA-256 of its value. */
export interface RefreshTokenRecord {
  hash: string
  grantId: string
  clientId: string
  scopes: string[]
  createdAt: number
  expiresAt: number
}

export type CodeRedemption =
  | {outcome: 'redeemed'; code: AuthorizationCodeRecord; grant: GrantRecord}
  | {outcome: 'unknown' | 'expired' | 'wrong_client' | 'grant_revoked'}
  /** Already redeemed: the grant and everything issued from it were revoked just now. */
  | {outcome: 'replayed'}

/**
 * A refresh token as the refresh grant's rule sees it inside one transaction: the token, its
 * grant, the successor it was rotated to (if it was), and how many refresh tokens of its family
 * are still live. Plain facts; the rule (src/oauth/grants/refresh-rotation.ts) decides.
 */
export interface RefreshTokenState extends RefreshTokenRecord {
  consumedAt: number | null
  revokedAt: number | null
  /** Set once the token was rotated: the successor's hash and the salt it was derived with. */
  rotation: {successorHash: string; salt: string} | null
}

export interface RefreshFamilyView {
  token: RefreshTokenState
  /** Undefined when the grant row is gone. */
  grant: GrantRecord | undefined
  /** The token `rotation.successorHash` names, whatever its state. */
  successor: RefreshTokenState | undefined
  /** Refresh tokens of this family neither consumed, revoked nor expired at `now`. */
  liveInFamily: number
}

/** The writes a refresh exchange may ask for; applied in order, in the same transaction. */
export type RefreshWrite =
  | {op: 'consume'; hash: string; at: number; rotation: {successorHash: string; salt: string}}
  | {op: 'insert'; token: RefreshTokenRecord}
  | {op: 'revoke_grant'; grantId: string; at: number; reason: string}

export interface GrantRepository {
  create(grant: GrantRecord): Promise<void>
  find(id: string): Promise<GrantRecord | undefined>
  insertCode(code: AuthorizationCodeRecord): Promise<void>
  /** A grant and its authorization code, in one transaction: never a grant without its code. */
  createWithCode(grant: GrantRecord, code: AuthorizationCodeRecord): Promise<void>
  /**
   * Redeems a code in one immediate transaction (racing redemptions: one wins). `check` runs
   * inside it and may throw to refuse without consuming (wrong verifier, redirect URI). A
   * second redemption revokes the grant. On success `refresh`, when given, is stored with it.
   */
  redeemCode(
    hash: string,
    options: {clientId: string; now: number; check(code: AuthorizationCodeRecord): void; refresh?: {hash: string; createdAt: number; expiresAt: number} | undefined},
  ): Promise<CodeRedemption>
  /**
   * One refresh exchange in one immediate transaction (racing exchanges, in this process or
   * another, are serialised): reads the token with this hash and its family (`now` decides
   * which tokens count as live), hands the view to `decide` (undefined for an unknown hash),
   * and applies the writes it returns. `decide` runs synchronously inside the transaction; if it
   * throws, nothing is written and the error propagates. The repository holds no rule.
   */
  exchangeRefreshToken<T>(hash: string, now: number, decide: (view: RefreshFamilyView | undefined) => {writes: RefreshWrite[]; result: T}): Promise<T>
  /** Revokes one grant (and its codes and refresh tokens); false when absent or already revoked. */
  revoke(id: string, at: number, reason: string): Promise<boolean>
  /** Revokes a client's grants for a subject; returns how many. */
  revokeForClient(clientId: string, subject: string, at: number, reason: string): Promise<number>
  /** The refresh token with this hash, whatever its state. */
  findRefreshToken(hash: string): Promise<RefreshTokenRecord | undefined>
  /** Ids of grants revoked at or after `since` (older ones have no live access token left). */
  revokedSince(since: number): Promise<string[]>
  /** Deletes expired codes and refresh tokens, and grants expired long ago; returns how many rows went. */
  prune(now: number): Promise<number>
}

export interface ConsentRecord {
  clientId: string
  subject: string
  scopes: string[]
  createdAt: number
  revokedAt: number | null
}

export interface ConsentRepository {
  /** Records an approval (idempotent for the same client, subject and scope set). */
  remember(consent: {clientId: string; subject: string; scopes: string[]; at: number}): Promise<void>
  /** Active consents of a client for a subject. */
  active(clientId: string, subject: string): Promise<ConsentRecord[]>
  /** Every consent (of one subject, or of one client, when given). */
  list(options: {includeRevoked: boolean; subject?: string | undefined; clientId?: string | undefined}): Promise<ConsentRecord[]>
  /**
   * One consent revocation in one transaction: reads a client's active consents and live
   * (unrevoked) grants, hands them to `decide` (synchronous, inside the transaction), and applies
   * the writes it returns; a revoked grant takes its codes and refresh tokens with it. If `decide`
   * throws, nothing is written. The rule is the caller's (src/owner/consent-revocation.ts).
   */
  revokeWith<T>(clientId: string, decide: (view: ConsentRevocationView) => {writes: ConsentWrite[]; result: T}): Promise<T>
}


/** What a consent revocation decides from: one client's active consents and live grants. */
export interface ConsentRevocationView {
  consents: ConsentRecord[]
  grants: GrantRecord[]
}

/** The writes a consent revocation may ask for. */
export type ConsentWrite =
  | {op: 'revoke_consent'; clientId: string; subject: string; scopes: string[]; at: number}
  | {op: 'revoke_grant'; grantId: string; at: number; reason: string}


/**
 * The owner's password, as the single-password login form and `gatehouse owner set-password` see
 * it: the password of the primary owner (the oldest active user with role `owner`;
 * src/store/types.ts UserRepository). Setting it when no owner user exists creates one named
 * `owner`. Kept as its own interface for the console and the consent page's one-field form.
 */
export interface OwnerRepository {
  passwordHash(): Promise<string | undefined>
  setPasswordHash(hash: string, at: number): Promise<void>
}

export type UserRole = 'owner' | 'member'

/** A person who signs in to approve clients (issue 17). `id` is stable and opaque (`usr_` + 32 hex). */
export interface UserRecord {
  id: string
  /** Unique among users; what people type at the login form and on the command line. */
  name: string
  role: UserRole
  /** scrypt hash (src/owner/password.ts); null for a user who signs in only upstream. */
  passwordHash: string | null
  createdAt: number
  disabledAt: number | null
}

/** An upstream OpenID Connect identity (issuer + sub, OIDC Core §5.7: the only stable pair) bound to one local user. */
export interface UserIdentityRecord {
  issuer: string
  subject: string
  userId: string
  /** The e-mail claim at the last sign-in; for people, never for matching. */
  email: string | null
  createdAt: number
  lastLoginAt: number
}

export interface UserRepository {
  /** Throws StoreConflictError when the name (or id) is taken. */
  insert(user: UserRecord): Promise<void>
  findById(id: string): Promise<UserRecord | undefined>
  findByName(name: string): Promise<UserRecord | undefined>
  /** Every user, oldest first. */
  list(): Promise<UserRecord[]>
  /** The primary owner: the oldest active user with role owner. */
  primaryOwner(): Promise<UserRecord | undefined>
  setPasswordHash(id: string, hash: string | null): Promise<boolean>
  /**
   * Marks the user disabled and, in the same transaction, revokes their active consents and
   * grants (and the grants' codes and refresh tokens). Null when there is no such active user.
   */
  disable(id: string, at: number): Promise<{consents: number; grants: number} | null>
  /** Lets a disabled user sign in again (their revoked consents and grants stay revoked); false when no such disabled user. */
  enable(id: string): Promise<boolean>
  /** How many upstream identities each user has (users with none are absent). */
  identityCounts(): Promise<Map<string, number>>
  /** Deletes the user and their upstream identities after revoking as `disable` does; null when absent. */
  remove(id: string, at: number): Promise<{consents: number; grants: number} | null>
  findIdentity(issuer: string, subject: string): Promise<UserIdentityRecord | undefined>
  /** Binds an upstream identity to a user; StoreConflictError when that (issuer, sub) is bound already. */
  linkIdentity(identity: UserIdentityRecord): Promise<void>
  /** Records a sign-in (time, and the e-mail claim as it is now). */
  touchIdentity(issuer: string, subject: string, email: string | null, at: number): Promise<void>
  /**
   * A new user and their upstream identity in one transaction (first sign-in with auto-create):
   * never a user without the identity that made them. StoreConflictError when either exists.
   */
  insertWithIdentity(user: UserRecord, identity: UserIdentityRecord): Promise<void>
}

/** Clients that registered themselves (RFC 7591) or are described by a metadata document. */
export interface RegisteredClientRepository {
  /**
   * Inserts or refreshes a metadata-document client (its id is the document URL). One revoked
   * by the owner stays revoked; one expired for lack of use (`expireUnused`) is admitted again
   * with `createdAt` as new. Returns the record as stored.
   */
  upsertMetadataDocumentClient(client: NewClient): Promise<ClientRecord>
  /** How many active self-registered clients exist (RFC 7591 registrations and metadata documents). */
  countActive(): Promise<number>
  /**
   * Revokes self-registered clients (both kinds) created before `neverUsedBefore` and never used, or last
   * used before `idleBefore`; returns their ids.
   */
  expireUnused(options: {neverUsedBefore: number; idleBefore: number; at: number}): Promise<string[]>
}

/**
 * Small secrets kept in the store itself (the private parts of signing keys on PostgreSQL, sealed
 * with AES-256-GCM under the key-encryption key before they get here: src/secrets/sealed-vault.ts).
 * The store sees only sealed text.
 */
export interface SecretRepository {
  get(account: string): Promise<string | undefined>
  /** Inserts or replaces. */
  set(account: string, sealed: string): Promise<void>
  delete(account: string): Promise<void>
}

/** A token bucket's stored level (src/oauth/rate-limit.ts holds the arithmetic): `tokens` left at `at`, full again at `fullAt` (ms). */
export interface BudgetLevel {
  tokens: number
  at: number
  fullAt: number
}

/**
 * Failure budgets shared by every node (a brute force spread over nodes spends one budget).
 * Dumb: levels by key, one atomic update of several keys, and the pairs (client, address) that
 * authenticated. The rule (how a bucket refills, when a budget is spent) is the caller's.
 */
export interface BudgetRepository {
  /** The stored levels of these keys; a key never spent (or pruned once full) is absent. */
  levels(keys: readonly string[]): Promise<Map<string, BudgetLevel>>
  /**
   * One atomic change of several buckets: the keys are locked (racing nodes are serialised), their
   * levels handed to `decide` (synchronous, inside the transaction), and the writes it returns
   * applied (null deletes). If `decide` throws, nothing is written.
   */
  update<T>(keys: readonly string[], decide: (levels: Map<string, BudgetLevel>) => {writes: Map<string, BudgetLevel | null>; result: T}): Promise<T>
  /** Records that a (client, address) pair authenticated successfully at `at`. */
  trust(pair: string, at: number): Promise<void>
  /** Whether that pair authenticated successfully at or after `since`. */
  trusted(pair: string, since: number): Promise<boolean>
  /** Deletes levels full again by `now` and trust older than `trustBefore`; returns how many rows went. */
  prune(now: number, trustBefore: number): Promise<number>
}

/** A browser session of the consent pages, stored by the SHA-256 of its id (the cookie value). */
export interface BrowserSessionRecord {
  /** SHA-256 (base64url) of the session id. */
  id: string
  csrf: string
  ownerAt: number | null
  /** The person logged in with it (a user id), null before login. */
  userId: string | null
  /** The address key an anonymous session was made from ('' once logged in). */
  address: string
  expiresAt: number
  usedAt: number
}

/** An authorization request parked for the owner's decision, bound to its browser session. */
export interface PendingAuthorizationRecord {
  /** SHA-256 (base64url) of the request id the consent form carries. */
  id: string
  sessionId: string
  /** The validated request, as JSON (the client by id: src/oauth/authorize/shared-sessions.ts). */
  request: string
  createdAt: number
  expiresAt: number
}

/**
 * Browser sessions and parked authorization requests, shared so that an authorization started on
 * one node finishes on another. Bounds are applied in the writing transaction; dropping a
 * session drops its parked requests.
 */
export interface BrowserSessionRepository {
  /**
   * Inserts an anonymous session. Beyond `maxPerAddress` anonymous sessions of its address, or
   * `maxAnonymous` in all, the least recently used anonymous ones go (never a logged-in one).
   */
  createAnonymous(session: BrowserSessionRecord, bounds: {maxAnonymous: number; maxPerAddress: number}): Promise<void>
  /** The live session with this id, its use time set to `now`; undefined when absent or expired. */
  use(id: string, now: number): Promise<BrowserSessionRecord | undefined>
  /**
   * Replaces session `oldId` by the logged-in `session`, carrying its parked requests over; beyond
   * `maxOwner` logged-in sessions the least recently used goes. False when `oldId` is gone.
   */
  login(oldId: string, session: BrowserSessionRecord, maxOwner: number): Promise<boolean>
  /** Parks a request; beyond `maxPerSession` parked for its session, the oldest goes. False when the session is gone. */
  park(pending: PendingAuthorizationRecord, maxPerSession: number): Promise<boolean>
  /** The live parked request with this id, only for its own session. */
  pending(id: string, sessionId: string, now: number): Promise<PendingAuthorizationRecord | undefined>
  /** Single use: deletes the parked request; true for the one caller that removed it (racing nodes: one wins). */
  settle(id: string, sessionId: string): Promise<boolean>
  /** Logs out: the session and its parked requests are gone at once. */
  end(id: string): Promise<void>
  /** Live sessions by kind (tests, status). */
  count(now: number): Promise<{anonymous: number; owner: number}>
  /** Deletes expired sessions and parked requests; returns how many rows went. */
  prune(now: number): Promise<number>
}

/** One running daemon on this store, as its heartbeat row says (`gatehouse status`). */
export interface NodeRecord {
  id: string
  url: string
  host: string
  pid: number
  version: string
  startedAt: number
  seenAt: number
}

export interface NodeRepository {
  /** Inserts or refreshes this node's row. */
  beat(node: NodeRecord): Promise<void>
  /** Nodes seen at or after `since`, oldest start first. */
  live(since: number): Promise<NodeRecord[]>
  /** Removes a node's row (a clean stop) and rows not seen since `staleBefore`. */
  leave(id: string, staleBefore: number): Promise<void>
}

export interface Store {
  readonly audit: AuditRepository
  readonly clients: ClientRepository
  readonly signingKeys: SigningKeyRepository
  readonly tokens: TokenRepository
  readonly grants: GrantRepository
  readonly consents: ConsentRepository
  readonly owner: OwnerRepository
  readonly users: UserRepository
  readonly registeredClients: RegisteredClientRepository
  readonly secrets: SecretRepository
  readonly budgets: BudgetRepository
  readonly browserSessions: BrowserSessionRepository
  readonly nodes: NodeRepository
  /** Every committed change, this process's and others' (src/store/changes.ts): caches subscribe. */
  readonly changes: StoreChanges
  /** Which store this is, for people: "sqlite /path/gatehouse.db", "postgresql db.example:5432/gatehouse". */
  describe(): string
  /** Resolves when the store answers a trivial query now; rejects otherwise (health checks). */
  ping(): Promise<void>
  close(): Promise<void>
}
