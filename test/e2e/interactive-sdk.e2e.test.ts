import assert from 'node:assert/strict'
import {test} from 'node:test'
import {auth} from '@modelcontextprotocol/sdk/client/auth.js'
import {createRemoteJWKSet, jwtVerify} from 'jose'
import {launchBrowser, noBrowser} from '../helpers/browser.js'
import {runBin} from '../helpers/cli.js'
import {startDaemon} from '../helpers/daemon.js'
import {Client} from '@modelcontextprotocol/sdk/client/index.js'
import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import {callbackServer, MemoryProvider} from '../helpers/oauth-client.js'
import {serveHttps, selfSignedCert} from '../helpers/tls.js'
import {firstText} from '../helpers/mcp-client.js'
import {tempDir} from '../helpers/tmp.js'

const PASSWORD = 'correct horse battery staple'

const info = (issuer: string, token: string) => fetch(`${issuer}/oauth/info`, {headers: {Authorization: `Bearer ${token}`}})

test('the MCP SDK client registers, the owner approves in a real browser, and the client gets, refreshes and loses tokens', {skip: noBrowser}, async (t) => {
  const dataDir = tempDir(t)
  const set = await runBin('run', ['owner', 'set-password', '--password-stdin', '--json'], {dataDir, input: `${PASSWORD}\n`})
  assert.equal(set.code, 0, set.stderr)
  assert.deepEqual(JSON.parse(set.stdout), {owner: 'owner', password_set: true, replaced: false})
  // Grace 0: a rotated refresh token presented again is reuse at once.
  const daemon = await startDaemon(t, {dataDir, args: ['--refresh-grace', '0']})
  const issuer = daemon.issuer
  const callback = await callbackServer(t)
  // What the gateway's 401 points at (RFC 9728), served by the daemon itself.
  const resourceMetadataUrl = new URL(`${issuer}/.well-known/oauth-protected-resource/mcp`)
  const provider = new MemoryProvider(callback.redirectUri)
  const serverUrl = `${issuer}/mcp`

  // 1. Discovery, dynamic registration (RFC 7591), PKCE: the SDK hands us the authorization URL.
  assert.equal(await auth(provider, {serverUrl, resourceMetadataUrl}), 'REDIRECT')
  const authUrl = provider.authorizationUrl!
  assert.equal(authUrl.origin + authUrl.pathname, `${issuer}/oauth/authorize`)
  assert.equal(authUrl.searchParams.get('code_challenge_method'), 'S256')
  assert.equal(authUrl.searchParams.get('resource'), `${issuer}/mcp`)
  const clientId = (provider.info as {client_id: string}).client_id
  assert.match(clientId, /^gtc_/)

  // 2. The owner's browser: consent page with the client's name, redirect host and scopes.
  const browser = await launchBrowser(t)
  const context = await browser.newContext()
  const page = await context.newPage()
  const response = await page.goto(authUrl.href)
  assert.equal(response!.status(), 200)
  const headers = await response!.allHeaders()
  assert.equal(headers['x-frame-options'], 'DENY')
  assert.match(headers['content-security-policy']!, /frame-ancestors 'none'/)
  assert.match(headers['set-cookie']!, /gatehouse-session=[^;]+; Path=\/; HttpOnly; SameSite=Lax/)
  const text = await page.textContent('body')
  assert.match(text!, /Allow E2E Client to use this MCP server\?/)
  assert.ok(text!.includes(new URL(callback.redirectUri).host), 'shows the redirect host')
  assert.match(text!, /\bmcp\b/)
  // A wrong password keeps the owner on the page.
  await page.fill('#password', 'not the password')
  await page.click('button[value=approve]')
  assert.match((await page.textContent('.error'))!, /Wrong password/)
  assert.equal(callback.received.length, 0)
  await page.fill('#password', PASSWORD)
  const [callbackQuery] = await Promise.all([callback.next(), page.click('button[value=approve]')])
  assert.equal(callbackQuery.get('state'), provider.lastState)
  assert.equal(callbackQuery.get('iss'), issuer, 'RFC 9207 iss')
  const code = callbackQuery.get('code')!
  assert.match(code, /^gtac_/)

  // 3. Code exchange.
  assert.equal(await auth(provider, {serverUrl, resourceMetadataUrl, authorizationCode: code}), 'AUTHORIZED')
  const first = provider.savedTokens!
  assert.match(first.refresh_token!, /^gtrt_/)
  assert.equal(first.scope, 'mcp')
  const jwks = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`))
  const {payload} = await jwtVerify(first.access_token, jwks, {issuer, audience: `${issuer}/mcp`, typ: 'at+jwt', algorithms: ['ES256']})
  assert.equal(payload.client_id, clientId)
  // Issue 17: the person's stable id (the owner is the first user), not a shared 'owner'.
  assert.match(String(payload.sub), /^usr_[0-9a-f]{32}$/)
  assert.match(String(payload.gid), /^gtg_/)
  assert.equal((await info(issuer, first.access_token)).status, 200)
  // ... and the MCP SDK client connects with it and calls a tool through the gateway.
  const mcp = new Client({name: 'e2e', version: '1.0.0'})
  await mcp.connect(new StreamableHTTPClientTransport(new URL(serverUrl), {authProvider: provider}))
  await mcp.callTool({name: 'create_entities', arguments: {entities: [{name: 'from-the-browser-flow', entityType: 'note', observations: []}]}})
  assert.match(firstText(await mcp.callTool({name: 'read_graph', arguments: {}})), /from-the-browser-flow/)
  await mcp.close()
  // The code is single-use: a second exchange fails and revokes what it produced.
  const again = await fetch(`${issuer}/oauth/token`, {
    method: 'POST',
    headers: {'Content-Type': 'application/x-www-form-urlencoded'},
    body: new URLSearchParams({grant_type: 'authorization_code', code, client_id: clientId, code_verifier: provider.verifier, redirect_uri: callback.redirectUri}),
  })
  assert.equal(again.status, 400)
  assert.equal(((await again.json()) as {error: string}).error, 'invalid_grant')
  assert.equal((await info(issuer, first.access_token)).status, 401, 'code replay revoked the access token')
  const dead = await fetch(`${issuer}/oauth/token`, {method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: new URLSearchParams({grant_type: 'refresh_token', refresh_token: first.refresh_token!, client_id: clientId})})
  assert.equal(dead.status, 400, 'and its refresh token')

  // 4. A new authorization: the session and the consent are remembered, so no page is shown.
  provider.savedTokens = undefined
  assert.equal(await auth(provider, {serverUrl, resourceMetadataUrl}), 'REDIRECT')
  const [q2] = await Promise.all([callback.next(), page.goto(provider.authorizationUrl!.href)])
  assert.equal(q2.get('iss'), issuer)
  assert.equal(await auth(provider, {serverUrl, resourceMetadataUrl, authorizationCode: q2.get('code')!}), 'AUTHORIZED')
  const second = provider.savedTokens!

  // 5. Refresh through the SDK (an expired-looking token makes auth() refresh), with rotation.
  assert.equal(await auth(provider, {serverUrl, resourceMetadataUrl}), 'AUTHORIZED')
  const refreshed = provider.savedTokens!
  assert.notEqual(refreshed.refresh_token, second.refresh_token)
  assert.notEqual(refreshed.access_token, second.access_token)
  assert.equal((await info(issuer, refreshed.access_token)).status, 200)

  // 6. The rotated token presented again (grace 0): the whole family is revoked (RFC 9700 §4.14.2).
  const reuse = await fetch(`${issuer}/oauth/token`, {method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: new URLSearchParams({grant_type: 'refresh_token', refresh_token: second.refresh_token!, client_id: clientId})})
  assert.equal(reuse.status, 400)
  assert.equal((await info(issuer, refreshed.access_token)).status, 401)

  // 7. The CLI: the client is listed as registered; the consent is listed, then revoked.
  const list = JSON.parse((await runBin('oauth-list-clients', ['--json'], {dataDir})).stdout) as Array<Record<string, unknown>>
  const listed = list.find((c) => c.client_id === clientId)!
  assert.equal(listed.registration, 'dynamic')
  assert.deepEqual(listed.redirect_uris, [callback.redirectUri])
  const consents = JSON.parse((await runBin('run', ['consents', 'list', '--json'], {dataDir})).stdout) as Array<Record<string, unknown>>
  assert.deepEqual(consents.map((c) => [c.client_id, c.scopes]), [[clientId, ['mcp']]])

  provider.savedTokens = undefined
  assert.equal(await auth(provider, {serverUrl, resourceMetadataUrl}), 'REDIRECT')
  const [q3] = await Promise.all([callback.next(), page.goto(provider.authorizationUrl!.href)])
  assert.equal(await auth(provider, {serverUrl, resourceMetadataUrl, authorizationCode: q3.get('code')!}), 'AUTHORIZED')
  const third = provider.savedTokens!
  assert.equal((await info(issuer, third.access_token)).status, 200)
  const revoked = await runBin('run', ['consents', 'revoke', clientId, '--json'], {dataDir})
  assert.equal(revoked.code, 0, revoked.stderr)
  assert.equal(JSON.parse(revoked.stdout).consents_revoked, 1)
  assert.equal((await info(issuer, third.access_token)).status, 401, 'revoking the consent revokes its grants at once, in the running daemon')
  // Next time the owner is asked again (the refresh token died with the consent).
  const refused = await fetch(`${issuer}/oauth/token`, {method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: new URLSearchParams({grant_type: 'refresh_token', refresh_token: third.refresh_token!, client_id: clientId})})
  assert.equal(refused.status, 400)
  provider.savedTokens = undefined
  assert.equal(await auth(provider, {serverUrl, resourceMetadataUrl}), 'REDIRECT')
  await page.goto(provider.authorizationUrl!.href)
  assert.match((await page.textContent('h1'))!, /Allow E2E Client/)
})

test('a client identified by a metadata document (an https client_id) signs in, connects and calls a tool', async (t) => {
  const dataDir = tempDir(t)
  const tls = selfSignedCert(t)
  const callback = await callbackServer(t)
  let served = 0
  const {port} = await serveHttps(t, tls, (req, res) => {
    served++
    // Claude Code's style: a portless loopback redirect, used with whatever port it listens on.
    const portless = new URL(callback.redirectUri)
    portless.port = ''
    res.writeHead(200, {'Content-Type': 'application/json', 'Cache-Control': 'max-age=300'}).end(
      JSON.stringify({client_id: `https://localhost:${port}/client.json`, client_name: 'Metadata Doc Client', redirect_uris: [portless.href], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none'}),
    )
  })
  const clientId = `https://localhost:${port}/client.json`
  // The daemon trusts the document server's certificate the standard Node way, and is told that
  // loopback metadata hosts are fine here (they are refused by default: SSRF).
  const daemon = await startDaemon(t, {dataDir, args: ['--auto-approve', '--allow-private-metadata-hosts'], env: {NODE_EXTRA_CA_CERTS: tls.certFile}})
  const meta = (await (await fetch(`${daemon.issuer}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>
  assert.equal(meta.client_id_metadata_document_supported, true)

  const provider = new MemoryProvider(callback.redirectUri, 'Metadata Doc Client', clientId)
  const serverUrl = `${daemon.issuer}/mcp`
  assert.equal(await auth(provider, {serverUrl}), 'REDIRECT')
  assert.equal(provider.authorizationUrl!.searchParams.get('client_id'), clientId, 'no registration: the URL is the client id')
  const [query] = await Promise.all([callback.next(), fetch(provider.authorizationUrl!, {redirect: 'follow'})])
  assert.equal(query.get('iss'), daemon.issuer)
  assert.equal(await auth(provider, {serverUrl, authorizationCode: query.get('code')!}), 'AUTHORIZED')
  const mcp = new Client({name: 'cimd', version: '1.0.0'})
  await mcp.connect(new StreamableHTTPClientTransport(new URL(serverUrl), {authProvider: provider}))
  assert.ok((await mcp.listTools()).tools.some((x) => x.name === 'read_graph'))
  await mcp.close()
  assert.ok(served >= 1)
  const list = JSON.parse((await runBin('oauth-list-clients', ['--json'], {dataDir})).stdout) as Array<Record<string, unknown>>
  assert.equal(list.find((c) => c.client_id === clientId)?.registration, 'metadata_document')
})
