/** The OAuth 2.0 Protected Resource Metadata document (RFC 9728 §2; MCP 2025-11-25 authorization §Authorization Server Discovery). */
export function protectedResourceMetadata({
  resource,
  authorizationServers,
  scopesSupported,
}: {
  resource: string
  authorizationServers: readonly string[]
  scopesSupported: readonly string[]
}): Record<string, unknown> {
  return {
    resource,
    authorization_servers: [...authorizationServers],
    scopes_supported: [...scopesSupported],
    bearer_methods_supported: ['header'],
  }
}

/**
 * The protected resource as a client sees it under the name (Host) and path it used: the
 * resource identifier, the URL of its metadata (RFC 9728 §3.1: the well-known path inserted
 * before the resource's path, so `/mcp/` has its own, slash-suffixed one), and the
 * authorization server under the same name. RFC 9728 §3.3: the `resource` in the metadata must
 * be identical to the URL the client derived the metadata URL from, and the MCP SDK checks it.
 */
export interface ResourceView {
  resource: string
  resourceMetadataUrl: string
  authorizationServers: string[]
}

export function resourceView(issuer: string, slash: boolean): ResourceView {
  const end = slash ? '/' : ''
  return {
    resource: `${issuer}/mcp${end}`,
    resourceMetadataUrl: `${issuer}/.well-known/oauth-protected-resource/mcp${end}`,
    authorizationServers: [issuer],
  }
}

/** True when the request's path (before any query) ends with a slash: `/mcp/` and its metadata path. */
export function slashSuffixed(target: string | undefined): boolean {
  const t = target ?? '/'
  const q = t.indexOf('?')
  return (q < 0 ? t : t.slice(0, q)).endsWith('/') && t !== '/'
}
