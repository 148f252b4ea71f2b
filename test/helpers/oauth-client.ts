import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import type {TestContext} from 'node:test'
import type {OAuthClientProvider} from '@modelcontextprotocol/sdk/client/auth.js'
import type {OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens} from '@modelcontextprotocol/sdk/shared/auth.js'

/** A loopback HTTP server; resolves with its URL. Closed when the test ends. */
export async function serve(t: TestContext, handler: Parameters<typeof createServer>[1]): Promise<{url: string; server: Server}> {
  const server = createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return {url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server}
}

/** A native app's loopback redirect endpoint: hands each callback's query to the test. */
export async function callbackServer(t: TestContext) {
  const waiting: Array<(q: URLSearchParams) => void> = []
  const received: URLSearchParams[] = []
  const {url} = await serve(t, (req, res) => {
    const q = new URL(req.url ?? '/', 'http://x').searchParams
    received.push(q)
    waiting.shift()?.(q)
    res.writeHead(200, {'Content-Type': 'text/plain'}).end('You can close this window.')
  })
  return {
    redirectUri: `${url}/callback`,
    next: () => new Promise<URLSearchParams>((resolve) => waiting.push(resolve)),
    received,
  }
}

/** An in-memory OAuthClientProvider for the MCP SDK's auth(): remembers what the SDK hands it. */
export class MemoryProvider implements OAuthClientProvider {
  info: OAuthClientInformationMixed | undefined
  savedTokens: OAuthTokens | undefined
  verifier = ''
  authorizationUrl: URL | undefined
  lastState = ''
  clientMetadataUrl?: string

  constructor(
    readonly redirectUri: string,
    readonly name = 'E2E Client',
    clientMetadataUrl?: string,
  ) {
    if (clientMetadataUrl) this.clientMetadataUrl = clientMetadataUrl
  }
  get redirectUrl() {
    return this.redirectUri
  }
  get clientMetadata(): OAuthClientMetadata {
    return {client_name: this.name, redirect_uris: [this.redirectUri], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none'}
  }
  state() {
    this.lastState = crypto.randomUUID()
    return this.lastState
  }
  clientInformation() {
    return this.info
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info
  }
  tokens() {
    return this.savedTokens
  }
  saveTokens(tokens: OAuthTokens) {
    this.savedTokens = tokens
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url
  }
  saveCodeVerifier(v: string) {
    this.verifier = v
  }
  codeVerifier() {
    return this.verifier
  }
}
