import type {Clock} from '../../clock.js'
import type {RandomBytes} from '../../clients/credentials.js'
import type {Keyring} from '../keys/keyring.js'
import type {ResourceResolver} from '../resource.js'
import type {ClientRecord, Store} from '../../store/types.js'

/** What a grant hands back; the token endpoint renders it with Cache-Control: no-store. */
export interface TokenResponse {
  access_token: string
  token_type: 'Bearer'
  expires_in: number
  scope: string
  refresh_token?: string
}

/** A grant's outcome: the response to send and whom its access token is for (the token's `sub`, for the audit trail). */
export interface GrantResult {
  response: TokenResponse
  subject: string
}

export interface GrantRequest {
  client: ClientRecord
  params: Map<string, string>
}

/** One grant type (RFC 6749 §4); the token endpoint looks grants up by `grant_type`. */
export interface Grant {
  readonly type: string
  handle(request: GrantRequest): Promise<GrantResult>
}

/** What the grants that issue refresh tokens (authorization_code, refresh_token) are built from. */
export interface RefreshingGrantDeps {
  store: Store
  issuer: string
  keyring: Keyring
  clock: Clock
  resolveResource: ResourceResolver
  random?: RandomBytes
  /** How long a refresh token lives unused, ms. */
  refreshTtlMs?: number
}
