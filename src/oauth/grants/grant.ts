import type {ClientRecord} from '../../store/types.js'

/** What a grant hands back; the token endpoint renders it with Cache-Control: no-store. */
export interface TokenResponse {
  access_token: string
  token_type: 'Bearer'
  expires_in: number
  scope: string
  refresh_token?: string
}

export interface GrantRequest {
  client: ClientRecord
  params: Map<string, string>
}

/** One grant type (RFC 6749 §4); the token endpoint looks grants up by `grant_type`. */
export interface Grant {
  readonly type: string
  handle(request: GrantRequest): Promise<TokenResponse>
}
