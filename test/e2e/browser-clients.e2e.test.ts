// Interactive clients as users run them, with the owner's consent in real headless Chromium:
// - mcp-remote (issue 12 item 3, done-when: the Claude Desktop snippet `gatehouse connect` prints),
//   which discovers the server from the 401 (RFC 9728), registers (RFC 7591), does PKCE (RFC 7636)
//   and opens the browser, then proxies stdio to the gateway;
// - the MCP SDK v1's interactive auth() given http://localhost:PORT/mcp (issue 11 item 22: each
//   loopback name answered consistently, RFC 9728 §3.3, RFC 8707; MCP authorization §Canonical
//   Server URI).
// No network beyond loopback.
import assert from 'node:assert/strict'
import {readdirSync} from 'node:fs'
import {test} from 'node:test'
import {auth} from '@modelcontextprotocol/sdk/client/auth.js'
import {Client} from '@modelcontextprotocol/sdk/client/index.js'
import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import {decodeJwt} from 'jose'
import {clientSnippets} from '../../src/cli/client-settings.js'
import {launchBrowser, noBrowser} from '../helpers/browser.js'
import {runBin} from '../helpers/cli.js'
import {startDaemon} from '../helpers/daemon.js'
import {firstText} from '../helpers/mcp-client.js'
import {startMcpRemote} from '../helpers/mcp-remote.js'
import {callbackServer, MemoryProvider} from '../helpers/oauth-client.js'
import {tempDir} from '../helpers/tmp.js'

const PASSWORD = 'correct horse battery staple'

async function ownerDaemon(t: import('node:test').TestContext) {
  const dataDir = tempDir(t)
  const set = await runBin('run', ['owner', 'set-password', '--password-stdin', '--json'], {dataDir, input: `${PASSWORD}\n`})
  assert.equal(set.code, 0, set.stderr)
  return {dataDir, daemon: await startDaemon(t, {dataDir})}
}

test('mcp-remote, run with the Claude Desktop snippet\'s arguments: discovery, registration, PKCE, the owner\'s consent in Chromium, then tools/list through its stdio', {skip: noBrowser, timeout: 120_000}, async (t) => {
  const {daemon} = await ownerDaemon(t)
  // The snippet `gatehouse connect claude-desktop` prints, as the user pastes it.
  const snippet = clientSnippets({issuer: daemon.issuer}).find((s) => s.target === 'claude-desktop')!
  assert.equal(snippet.checked, 'test')
  const server = (JSON.parse(snippet.lines.join('\n')) as {mcpServers: Record<string, {command: string; args: string[]}>}).mcpServers.gatehouse!
  assert.equal(server.command, 'npx')
  assert.deepEqual(server.args.slice(0, 2), ['-y', 'mcp-remote'])
  const args = server.args.slice(2)
  assert.deepEqual(args, [`${daemon.issuer}/mcp`])
  // What `npx -y mcp-remote` runs (the devDependency's executable), with the snippet's arguments;
  // its browser is a recorder of the authorization URL for Chromium below to open, and its
  // registration and tokens go to a config dir of its own (test/helpers/mcp-remote.ts).
  const remote = await startMcpRemote(t, {serverUrl: args[0]!, args})
  const {client, connected} = remote

  const authUrl = await remote.authorizationUrl()
  assert.equal(authUrl.origin + authUrl.pathname, `${daemon.issuer}/oauth/authorize`)
  assert.equal(authUrl.searchParams.get('code_challenge_method'), 'S256')
  assert.equal(authUrl.searchParams.get('resource'), `${daemon.issuer}/mcp`)
  const redirect = new URL(authUrl.searchParams.get('redirect_uri')!)
  assert.match(redirect.hostname, /^(localhost|127\.0\.0\.1)$/, 'a loopback redirect (RFC 8252 §7.3)')

  const browser = await launchBrowser(t)
  const page = await browser.newPage()
  assert.equal((await page.goto(authUrl.href))!.status(), 200)
  assert.match((await page.textContent('body'))!, /use this MCP server\?/)
  await page.fill('#password', PASSWORD)
  // Approving sends the browser to mcp-remote's callback, which exchanges the code.
  await Promise.all([page.waitForURL((u) => u.port === redirect.port && u.pathname === redirect.pathname, {timeout: 30_000}), page.click('button[value=approve]')])

  await connected
  const {tools} = await client.listTools()
  const names = tools.map((tool) => tool.name)
  console.log(`mcp-remote: ${names.length} tools through its stdio (${names.slice(0, 3).join(', ')}, ...)`)
  assert.ok(names.includes('read_graph') && names.includes('create_entities'), names.join(', '))
  assert.match(firstText(await client.callTool({name: 'read_graph', arguments: {}})), /entities/)
  // It kept its registration and tokens where we told it (MCP_REMOTE_CONFIG_DIR), not in a real home.
  const kept = readdirSync(remote.configDir, {recursive: true}).map(String)
  assert.ok(kept.some((f) => f.endsWith('tokens.json')), kept.join(', '))
})

test('MCP SDK v1 auth() given http://localhost:PORT/mcp: interactive registration, PKCE, consent in Chromium, a token for that name, and tool calls there (RFC 9728 §3.3; RFC 8707)', {skip: noBrowser, timeout: 120_000}, async (t) => {
  const {daemon} = await ownerDaemon(t)
  const port = new URL(daemon.issuer).port
  const serverUrl = `http://localhost:${port}/mcp`
  const callback = await callbackServer(t)
  const provider = new MemoryProvider(callback.redirectUri, 'Localhost SDK Client')

  // Discovery from the 401 at localhost: the metadata names localhost, as the SDK requires.
  assert.equal(await auth(provider, {serverUrl}), 'REDIRECT')
  const authUrl = provider.authorizationUrl!
  assert.equal(authUrl.searchParams.get('resource'), serverUrl)
  assert.equal(authUrl.searchParams.get('code_challenge_method'), 'S256')

  const browser = await launchBrowser(t)
  const page = await browser.newPage()
  assert.equal((await page.goto(authUrl.href))!.status(), 200)
  assert.match((await page.textContent('body'))!, /Allow Localhost SDK Client to use this MCP server\?/)
  await page.fill('#password', PASSWORD)
  const [query] = await Promise.all([callback.next(), page.click('button[value=approve]')])
  assert.equal(query.get('state'), provider.lastState)
  assert.equal(await auth(provider, {serverUrl, authorizationCode: query.get('code')!}), 'AUTHORIZED')
  const tokens = provider.savedTokens!
  assert.equal(decodeJwt(tokens.access_token).aud, serverUrl, 'the token is for the name the client used')

  const mcp = new Client({name: 'localhost-sdk', version: '1.0.0'})
  t.after(() => mcp.close())
  await mcp.connect(new StreamableHTTPClientTransport(new URL(serverUrl), {authProvider: provider}))
  await mcp.callTool({name: 'create_entities', arguments: {entities: [{name: 'via-localhost', entityType: 'note', observations: []}]}})
  assert.match(firstText(await mcp.callTool({name: 'read_graph', arguments: {}})), /via-localhost/)
})
