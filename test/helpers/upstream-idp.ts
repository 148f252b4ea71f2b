import {createServer, request, type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import assert from 'node:assert/strict'
import type {TestContext} from 'node:test'
import {decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, SignJWT, type JWTPayload} from 'jose'
import Provider from 'oidc-provider'
import type {Page} from 'playwright-core'

export interface UpstreamAccount {
  email?: string
  email_verified?: boolean
  preferred_username?: string
  groups?: string[]
}

/**
 * A real OpenID Connect provider for tests (node-oidc-provider, its development login and
 * consent pages: any password signs in as the login typed), behind a loopback front that can
 * tamper with its token responses to play a forged upstream: `tamper` rewrites the ID token
 * (`resign` signs claims with the provider's own key, or `otherKey` with a key it never published).
 *
 * Start it before the daemon (its issuer URL is needed for --oidc-issuer), then `configure` the
 * client once the daemon's callback URL is known.
 */
export async function startUpstream(t: TestContext) {
  const accounts = new Map<string, UpstreamAccount>()
  let provider: Provider | undefined
  let inner: ReturnType<typeof createServer> | undefined
  let innerPort = 0
  let tamper: ((idToken: string) => Promise<string>) | undefined
  let redirect: ((url: URL) => void) | undefined
  const {privateKey, publicKey} = await generateKeyPair('ES256', {extractable: true})
  const jwk = {...(await exportJWK(privateKey)), kid: 'upstream-1', alg: 'ES256', use: 'sig'}
  const other = await generateKeyPair('ES256', {extractable: true})
  void publicKey

  const forward = (req: IncomingMessage, res: ServerResponse) => {
    const up = request({host: '127.0.0.1', port: innerPort, path: req.url, method: req.method, headers: req.headers}, async (r) => {
      const isToken = req.method === 'POST' && req.url?.startsWith('/token')
      if (!isToken || !tamper) {
        const headers = {...r.headers}
        // The authorization response travels as a redirect to the client: rewritten here when asked.
        if (redirect && typeof headers.location === 'string' && headers.location.includes('code=')) {
          const url = new URL(headers.location)
          redirect(url)
          headers.location = url.href
        }
        res.writeHead(r.statusCode!, headers)
        r.pipe(res)
        return
      }
      const chunks: Buffer[] = []
      for await (const c of r) chunks.push(c as Buffer)
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {id_token?: string}
      if (body.id_token) body.id_token = await tamper(body.id_token)
      const text = JSON.stringify(body)
      res.writeHead(r.statusCode!, {...r.headers, 'content-length': String(Buffer.byteLength(text))}).end(text)
    })
    up.on('error', () => res.writeHead(502).end())
    req.pipe(up)
  }
  const front = createServer(forward)
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve))
  const issuer = `http://127.0.0.1:${(front.address() as AddressInfo).port}`
  t.after(async () => {
    await new Promise<void>((r) => front.close(() => r()))
    if (inner) await new Promise<void>((r) => inner!.close(() => r()))
  })

  return {
    issuer,
    accounts,
    clientId: 'gatehouse',
    clientSecret: 'upstream client secret for tests',
    /**
     * Creates the provider with Gatehouse as its client (redirect URIs known now). `client` adds to
     * or changes its registration, e.g. `{token_endpoint_auth_method: 'private_key_jwt', jwks}`
     * (then it has no secret). `conformIdTokenClaims: true` is the provider's (and the spec's,
     * OIDC Core §5.4) default: the email and profile claims come from UserInfo only, not in the
     * ID token; false (the default here) puts them in the ID token too.
     */
    async configure(redirectUri: string | string[], client: Record<string, unknown> = {}, {conformIdTokenClaims = false}: {conformIdTokenClaims?: boolean} = {}) {
      const registered: Record<string, unknown> = {client_id: 'gatehouse', client_secret: 'upstream client secret for tests', redirect_uris: [redirectUri].flat(), grant_types: ['authorization_code'], response_types: ['code'], id_token_signed_response_alg: 'ES256', ...client}
      if (registered.token_endpoint_auth_method === 'private_key_jwt') delete registered.client_secret
      provider = new Provider(issuer, {
        clients: [registered as never],
        jwks: {keys: [jwk]},
        cookies: {keys: ['test cookie key']},
        conformIdTokenClaims,
        claims: {openid: ['sub'], email: ['email', 'email_verified'], profile: ['preferred_username', 'groups']},
        pkce: {required: () => true},
        async findAccount(_ctx, id) {
          const a = accounts.get(id)
          if (!a) return undefined
          return {accountId: id, claims: async () => ({sub: id, ...a})}
        },
      })
      inner = createServer(provider.callback())
      await new Promise<void>((resolve) => inner!.listen(0, '127.0.0.1', resolve))
      innerPort = (inner.address() as AddressInfo).port
    },
    /** From now on, authorization responses (the redirect to the client) are rewritten (undefined: untouched). */
    tamperRedirect(fn: ((url: URL) => void) | undefined) {
      redirect = fn
    },
    /** From now on, ID tokens from the token endpoint are rewritten (undefined: untouched). */
    tamper(fn: ((claims: JWTPayload) => JWTPayload) | undefined, {otherKey = false}: {otherKey?: boolean} = {}) {
      tamper = fn
        ? async (idToken) => {
            const header = decodeProtectedHeader(idToken)
            return new SignJWT(fn(decodeJwt(idToken)) as JWTPayload).setProtectedHeader({alg: 'ES256', kid: header.kid!, ...(header.typ ? {typ: header.typ} : {})}).sign(otherKey ? other.privateKey : privateKey)
          }
        : undefined
    },
  }
}

/**
 * Clicks Gatehouse's "Sign in with <provider>" (`button`, a CSS selector) on `page` and signs in
 * at the provider of startUpstream as `login` (its development pages take any password),
 * through its consent page when it shows one; resolves once the browser is back at `issuer`.
 */
export async function signInAtProvider(page: Page, issuer: string, login: string, button = 'a.button'): Promise<Page> {
  await page.click(button)
  await page.fill('input[name=login]', login)
  await page.fill('input[name=password]', 'any password')
  await page.click('button[type=submit]')
  // The provider's consent page (first time for this account), then back to Gatehouse.
  for (let i = 0; i < 3 && !page.url().startsWith(issuer); i++) {
    if (await page.$('button[type=submit]')) await page.click('button[type=submit]')
    await page.waitForLoadState()
  }
  assert.ok(page.url().startsWith(issuer), `back at Gatehouse: ${page.url()}`)
  return page
}
