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
