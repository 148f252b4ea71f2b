import {ASSERTION_ALGS} from '../clients/public-key.js'

export interface EndpointUrls {
  issuer: string
  token: string
  jwks: string
  introspection: string
  revocation: string
  info: string
  authorization?: string
  registration?: string
}

export function endpointUrls(issuer: string): EndpointUrls {
  return {
    issuer,
    token: `${issuer}/oauth/token`,
    jwks: `${issuer}/.well-known/jwks.json`,
    introspection: `${issuer}/oauth/introspect`,
    revocation: `${issuer}/oauth/revoke`,
    info: `${issuer}/oauth/info`,
  }
}

/** RFC 8414 authorization server metadata. Every URL derives from the issuer. */
export function authorizationServerMetadata({
  urls,
  grantTypes,
  scopes,
  authMethods,
  extra = {},
}: {
  urls: EndpointUrls
  grantTypes: string[]
  scopes: string[]
  authMethods: string[]
  extra?: Record<string, unknown>
}): Record<string, unknown> {
  const confidential = authMethods.filter((m) => m !== 'none')
  return {
    issuer: urls.issuer,
    token_endpoint: urls.token,
    jwks_uri: urls.jwks,
    introspection_endpoint: urls.introspection,
    revocation_endpoint: urls.revocation,
    ...(urls.authorization ? {authorization_endpoint: urls.authorization} : {}),
    ...(urls.registration ? {registration_endpoint: urls.registration} : {}),
    grant_types_supported: grantTypes,
    response_types_supported: urls.authorization ? ['code'] : [],
    token_endpoint_auth_methods_supported: authMethods,
    token_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGS],
    introspection_endpoint_auth_methods_supported: confidential,
    introspection_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGS],
    revocation_endpoint_auth_methods_supported: authMethods,
    revocation_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGS],
    scopes_supported: scopes,
    code_challenge_methods_supported: ['S256'],
    ...extra,
  }
}
