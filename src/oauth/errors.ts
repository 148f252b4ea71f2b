import {HttpError} from '../http/errors.js'

/**
 * OAuth errors, one class per error code, each with its HTTP status (RFC 6749 §5.2, RFC 7009,
 * RFC 7591 §3.2.2, RFC 8707 §2). The body is always `{"error","error_description"}` and is
 * rendered by the one error mapper in src/http/respond.ts, with Cache-Control: no-store.
 */
export class OAuthError extends HttpError {
  /** The known client the refused request named, for the audit trail only: never in the response. */
  clientId?: string

  constructor(status: number, code: string, description: string, headers: Record<string, string> = {}) {
    super(status, {error: code, error_description: description}, headers)
  }

  get code(): string {
    return String(this.body.error)
  }
}

export class InvalidRequest extends OAuthError {
  constructor(description: string) {
    super(400, 'invalid_request', description)
  }
}

/**
 * 401. When the client tried HTTP Basic, the response carries a Basic challenge (RFC 6749 §5.2).
 * The description never says whether the client exists.
 */
export class InvalidClient extends OAuthError {
  constructor(description = 'client authentication failed', {basic = false}: {basic?: boolean} = {}) {
    super(401, 'invalid_client', description, basic ? {'WWW-Authenticate': 'Basic realm="gatehouse", charset="UTF-8"'} : {})
  }
}

export class InvalidGrant extends OAuthError {
  constructor(description: string) {
    super(400, 'invalid_grant', description)
  }
}

export class UnauthorizedClient extends OAuthError {
  constructor(description: string) {
    super(400, 'unauthorized_client', description)
  }
}

export class UnsupportedGrantType extends OAuthError {
  constructor(description: string) {
    super(400, 'unsupported_grant_type', description)
  }
}

export class InvalidScope extends OAuthError {
  constructor(description: string) {
    super(400, 'invalid_scope', description)
  }
}

/** RFC 8707 §2: a resource the server does not serve, or the client may not use. */
export class InvalidTarget extends OAuthError {
  constructor(description: string) {
    super(400, 'invalid_target', description)
  }
}

export class UnsupportedTokenType extends OAuthError {
  constructor(description: string) {
    super(400, 'unsupported_token_type', description)
  }
}

export class InvalidClientMetadata extends OAuthError {
  constructor(description: string) {
    super(400, 'invalid_client_metadata', description)
  }
}

export class InvalidRedirectUri extends OAuthError {
  constructor(description: string) {
    super(400, 'invalid_redirect_uri', description)
  }
}

/** 429 with Retry-After: too many failed attempts (or, when configured, too many requests). */
export class TooManyRequests extends OAuthError {
  constructor(retryAfterSeconds: number, description = 'too many requests; retry later') {
    super(429, 'temporarily_unavailable', description, {'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds)))})
  }
}
