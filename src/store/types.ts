/**
 * The storage interface every part of Gatehouse talks to. It is asynchronous so that a
 * networked store (PostgreSQL, for several daemons behind one issuer) can implement it; the
 * SQLite implementation answers from a local file.
 */

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
  /** Marks the client revoked; false when it does not exist or was already revoked. */
  revoke(id: string, revocation: {at: number; by: string; reason: string | null}): Promise<boolean>
  /** Records last-use times, in one write (the daemon batches these off the hot path). */
  touch(lastUsed: ReadonlyMap<string, number>): Promise<void>
}

export interface SigningKeyRecord {
  kid: string
  alg: string
  publicJwk: Record<string, unknown>
  privateKeyStore: 'keychain' | 'file'
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

export interface AuditRepository {
  append(events: readonly AuditEvent[]): Promise<void>
  /** Oldest first. `afterId` for following; `limit` caps the answer. */
  query(filter: {clientId?: string; since?: number; afterId?: number; limit?: number}): Promise<AuditRecord[]>
  /** Deletes events older than `before`; returns how many. */
  prune(before: number): Promise<number>
}

export interface Store {
  readonly audit: AuditRepository
  readonly clients: ClientRepository
  readonly signingKeys: SigningKeyRepository
  readonly tokens: TokenRepository
  /**
   * A number that changes whenever another connection (the CLI, another daemon) has committed a
   * change. Cheap enough to ask on every request; caches compare it to know when to drop.
   */
  changeCounter(): number
  close(): Promise<void>
}
