#!/usr/bin/env node
// oidc-provider configured as close to Gatehouse's token endpoint as it allows: one client,
// client_credentials, client_secret_basic, ES256-signed JWT access tokens (RFC 9068 via the
// resource indicators feature), the in-memory adapter, no interactions.
// Usage: node oidc-provider.mjs PORT CLIENT_ID CLIENT_SECRET
import {generateKeyPairSync, randomUUID} from 'node:crypto'
import Provider from 'oidc-provider'

const [port, clientId, clientSecret] = process.argv.slice(2)
const issuer = `http://127.0.0.1:${port}`
const resource = `${issuer}/mcp`
const jwk = generateKeyPairSync('ec', {namedCurve: 'P-256'}).privateKey.export({format: 'jwk'})

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'ES256',
      scope: 'mcp',
    },
  ],
  jwks: {keys: [{...jwk, alg: 'ES256', use: 'sig', kid: randomUUID()}]},
  scopes: ['mcp'],
  clientAuthMethods: ['client_secret_basic'],
  enabledJWA: {idTokenSigningAlgValues: ['ES256']},
  features: {
    devInteractions: {enabled: false},
    clientCredentials: {enabled: true},
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'mcp',
        audience: resource,
        accessTokenTTL: 3600,
        accessTokenFormat: 'jwt',
        jwt: {sign: {alg: 'ES256'}},
      }),
    },
  },
  ttl: {ClientCredentials: 3600},
  cookies: {keys: [randomUUID()]},
})
provider.on('server_error', (ctx, err) => console.error('server_error', err))
const server = provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}, token endpoint ${issuer}/token`)
})
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)))
