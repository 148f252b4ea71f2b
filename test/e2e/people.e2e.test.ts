/**
 * People (issue 17), end to end with the real daemon in `--isolation user`, real Chromium on the
 * consent pages, and the two clients the issue names: Alice and Bob each connect the MCP SDK v1
 * client with auth() and mcp-remote (each mcp-remote with its own config dir, as on two
 * machines) to the bundled memory server. Each person's two clients share one memory; the two people never
 * see each other's; the consent page names who is signed in; a policy rule for owners only holds;
 * the audit says whose each request was; disabling Bob refuses his tokens on their next use and
 * stops his child while Alice's goes on.
 */
import assert from 'node:assert/strict'
import {existsSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'node:test'
import {auth} from '@modelcontextprotocol/sdk/client/auth.js'
import {Client} from '@modelcontextprotocol/sdk/client/index.js'
import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import {decodeJwt} from 'jose'
import type {Page} from 'playwright-core'
import {launchBrowser, noBrowser} from '../helpers/browser.js'
import {runBin} from '../helpers/cli.js'
import {startDaemon} from '../helpers/daemon.js'
import {consoleHttp} from '../console/helpers.js'
import {firstText} from '../helpers/mcp-client.js'
import {startMcpRemote} from '../helpers/mcp-remote.js'
import {callbackServer, MemoryProvider} from '../helpers/oauth-client.js'
import {tempDir} from '../helpers/tmp.js'

const PASSWORDS = {alice: 'alice has a long password', bob: 'bob has another long one'}

/** Pids of the daemon's direct children, with their environment (Linux /proc). */
function childrenOf(pid: number): Array<{pid: number; env: Record<string, string>}> {
  const out: Array<{pid: number; env: Record<string, string>}> = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid !== pid) continue
      const env = Object.fromEntries(
        readFileSync(`/proc/${name}/environ`, 'utf8')
          .split('\0')
          .filter(Boolean)
          .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
      )
      out.push({pid: Number(name), env})
    } catch {
      // gone meanwhile
    }
  }
  return out
}

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))

async function until(what: string, check: () => boolean | Promise<boolean>, withinMs = 10_000): Promise<number> {
  const start = Date.now()
  while (!(await check())) {
    if (Date.now() - start > withinMs) assert.fail(`not within ${withinMs} ms: ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
  return Date.now() - start
}

test('Alice and Bob, two clients each, in --isolation user: shared memory per person, none across, owner-only tools, audit by person, Bob disabled', {skip: noBrowser}, async (t) => {
  const dataDir = tempDir(t)
  // 1. The people, with the CLI; bad input changes nothing.
  for (const [name, role] of [['alice', 'owner'], ['bob', 'member']] as const) {
    const r = await runBin('run', ['users', 'add', name, '--role', role, '--password-stdin', '--json'], {dataDir, input: `${PASSWORDS[name]}\n`})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(JSON.parse(r.stdout).role, role)
  }
  const dup = await runBin('run', ['users', 'add', 'alice', '--password-stdin'], {dataDir, input: 'another long password\n'})
  assert.equal(dup.code, 5, 'a duplicate name is CONFLICT')
  assert.match(dup.stderr, /already exists/)
  for (const verb of ['disable', 'remove']) {
    const r = await runBin('run', ['users', verb, 'carol'], {dataDir})
    assert.equal(r.code, 4, `${verb} of an unknown name is NOT_FOUND`)
    assert.match(r.stderr, /no user named "carol"/)
  }
  const users = JSON.parse((await runBin('run', ['users', 'list', '--json'], {dataDir})).stdout) as Array<{id: string; name: string; role: string; status: string; password: boolean}>
  assert.deepEqual(users.map((u) => [u.name, u.role, u.status, u.password]), [['alice', 'owner', 'active', true], ['bob', 'member', 'active', true]])
  assert.ok(!JSON.stringify(users).includes('scrypt'), 'never a hash')
  const id = Object.fromEntries(users.map((u) => [u.name, u.id])) as Record<'alice' | 'bob', string>

  // A tool only owners may call (the policy file's users/roles extension).
  const policy = join(dataDir, 'policy.yaml')
  writeFileSync(policy, 'tools:\n  "delete_*": {roles: [owner]}\n')
  const daemon = await startDaemon(t, {dataDir, args: ['--isolation', 'user', '--policy', policy]})
  const serverUrl = `${daemon.issuer}/mcp`
  const resourceMetadataUrl = new URL(`${daemon.issuer}/.well-known/oauth-protected-resource/mcp`)
  const browser = await launchBrowser(t)

  /** A person's SDK v1 client (their first): registers, the person signs in and approves in their browser, the SDK connects. */
  async function connectSdk(person: 'alice' | 'bob', page: Page, clientName: string) {
    const callback = await callbackServer(t)
    const provider = new MemoryProvider(callback.redirectUri, clientName)
    assert.equal(await auth(provider, {serverUrl, resourceMetadataUrl}), 'REDIRECT')
    await page.goto(provider.authorizationUrl!.href)
    const text = (await page.textContent('body'))!
    assert.match(text, new RegExp(`Allow ${clientName} to use this MCP server`))
    assert.doesNotMatch(text, /Signed in as/)
    await page.fill('#username', person)
    // The other person's password does not sign this one in.
    await page.fill('#password', PASSWORDS[person === 'alice' ? 'bob' : 'alice'])
    await page.click('button[value=approve]')
    assert.match((await page.textContent('.error'))!, /Wrong user name or password/)
    await page.fill('#username', person)
    await page.fill('#password', PASSWORDS[person])
    const [q] = await Promise.all([callback.next(), page.click('button[value=approve]')])
    assert.equal(await auth(provider, {serverUrl, resourceMetadataUrl, authorizationCode: q.get('code')!}), 'AUTHORIZED')
    const claims = decodeJwt(provider.savedTokens!.access_token)
    assert.equal(claims.sub, id[person], 'sub is the person\'s stable id')
    assert.equal(claims.client_id, (provider.info as {client_id: string}).client_id, 'client_id is the client')
    const mcp = new Client({name: clientName, version: '1.0.0'})
    await mcp.connect(new StreamableHTTPClientTransport(new URL(serverUrl), {authProvider: provider}))
    t.after(() => mcp.close().catch(() => {}))
    return mcp
  }

  /**
   * A person's mcp-remote (their second client): it registers and opens the browser; the person,
   * already signed in there, approves; it exchanges the code and proxies its stdio to the gateway.
   */
  async function connectRemote(person: 'alice' | 'bob', page: Page, clientName: string) {
    const remote = await startMcpRemote(t, {serverUrl, clientName})
    const authUrl = await remote.authorizationUrl()
    assert.equal(authUrl.origin + authUrl.pathname, `${daemon.issuer}/oauth/authorize`)
    const redirect = new URL(authUrl.searchParams.get('redirect_uri')!)
    await page.goto(authUrl.href)
    const text = (await page.textContent('body'))!
    assert.match(text, new RegExp(`Allow ${clientName} to use this MCP server`))
    // The consent page names the signed-in person (and asks for no password).
    assert.match(text, new RegExp(`Signed in as ${person}\\b`))
    assert.equal(await page.$('#password'), null)
    await Promise.all([page.waitForURL((u) => u.port === redirect.port && u.pathname === redirect.pathname, {timeout: 30_000}), page.click('button[value=approve]')])
    await remote.connected
    return remote
  }

  const pages = {alice: await (await browser.newContext()).newPage(), bob: await (await browser.newContext()).newPage()}
  const alice1 = await connectSdk('alice', pages.alice, 'Alice Desktop')
  const aliceRemote = await connectRemote('alice', pages.alice, 'Alice Code')
  const bob1 = await connectSdk('bob', pages.bob, 'Bob Desktop')
  const bobRemote = await connectRemote('bob', pages.bob, 'Bob Code')
  const alice2 = aliceRemote.client
  const bob2 = bobRemote.client
  // mcp-remote's token names the person too (it keeps its tokens in its own config dir).
  for (const [person, remote] of [['alice', aliceRemote], ['bob', bobRemote]] as const) {
    const files = readdirSync(remote.configDir, {recursive: true}).map(String).filter((f) => f.endsWith('_tokens.json') || f.endsWith('tokens.json'))
    assert.equal(files.length, 1, files.join(', '))
    assert.equal(decodeJwt((JSON.parse(readFileSync(join(remote.configDir, files[0]!), 'utf8')) as {access_token: string}).access_token).sub, id[person])
  }

  // 2. Memory: one per person, shared by that person's clients.
  const note = (mcp: Client, name: string) => mcp.callTool({name: 'create_entities', arguments: {entities: [{name, entityType: 'note', observations: []}]}})
  const graph = async (mcp: Client) => firstText(await mcp.callTool({name: 'read_graph', arguments: {}}))
  await note(alice1, 'alice-secret')
  await note(bob1, 'bob-secret')
  assert.match(await graph(alice2), /alice-secret/, 'Alice\'s second client sees what her first wrote')
  assert.match(await graph(bob2), /bob-secret/, 'Bob\'s second client sees what his first wrote')
  assert.doesNotMatch(await graph(alice2), /bob-secret/, 'Alice never sees Bob\'s memory')
  assert.doesNotMatch(await graph(bob2), /alice-secret/, 'Bob never sees Alice\'s memory')
  assert.ok(existsSync(join(dataDir, 'memory', `${id.alice}.jsonl`)) && existsSync(join(dataDir, 'memory', `${id.bob}.jsonl`)))

  // One child per person, told the person and never a token or a client.
  const children = childrenOf(daemon.child.pid!)
  assert.equal(children.length, 2, `one child per person (four clients): ${JSON.stringify(children.map((c) => c.env.GATEHOUSE_USER_ID))}`)
  assert.deepEqual(children.map((c) => c.env.GATEHOUSE_USER_ID).sort(), [id.alice, id.bob].sort())
  for (const c of children) {
    assert.equal(c.env.GATEHOUSE_CLIENT_ID, undefined)
    assert.ok(!Object.values(c.env).some((v) => v.includes('eyJ')), 'no token in the child environment')
  }
  const bobChild = children.find((c) => c.env.GATEHOUSE_USER_ID === id.bob)!.pid
  const aliceChild = children.find((c) => c.env.GATEHOUSE_USER_ID === id.alice)!.pid

  // 3. Policy by role: delete_* is for owners. Bob (member) does not see it and is refused; Alice may.
  assert.ok((await alice1.listTools()).tools.some((x) => x.name === 'delete_entities'))
  assert.ok(!(await bob1.listTools()).tools.some((x) => x.name === 'delete_entities'), 'hidden from members')
  await assert.rejects(bob1.callTool({name: 'delete_entities', arguments: {entityNames: ['bob-secret']}}), /not available to user bob|403/)
  assert.match(await graph(bob2), /bob-secret/, 'nothing was deleted')
  await alice1.callTool({name: 'delete_entities', arguments: {entityNames: ['alice-secret']}})
  assert.doesNotMatch(await graph(alice2), /alice-secret/)

  // 4. The audit by person.
  let rows: Array<{subject: string; user: string | null; method: string; name: string | null; outcome: string}> = []
  await until('the audit has Alice\'s delete', async () => {
    rows = JSON.parse((await runBin('run', ['audit', '--user', 'alice', '--json'], {dataDir})).stdout)
    return rows.some((r) => r.name === 'delete_entities' && r.outcome === 'ok')
  })
  assert.ok(rows.length > 0 && rows.every((r) => r.subject === id.alice), 'only Alice\'s events')
  assert.ok(rows.filter((r) => (r as {event?: string}).event === 'mcp.request').every((r) => r.user === 'alice'), 'requests name her')
  assert.ok(rows.some((r) => (r as {event?: string}).event === 'token.issued'), 'and the tokens issued to her clients')
  const bobRows = JSON.parse((await runBin('run', ['audit', '--user', 'bob', '--json'], {dataDir})).stdout) as typeof rows
  assert.ok(bobRows.some((r) => r.name === 'delete_entities' && r.outcome === 'forbidden'), JSON.stringify(bobRows.map((r) => [r.method, r.name, r.outcome])))
  const consents = JSON.parse((await runBin('run', ['consents', 'list', '--user', 'bob', '--json'], {dataDir})).stdout) as Array<{user_name: string; client_name: string}>
  assert.deepEqual(consents.map((c) => [c.user_name, c.client_name]).sort(), [['bob', 'Bob Code'], ['bob', 'Bob Desktop']])

  // `gatehouse status` counts the people by role (the daemon's status payload, and its line).
  const status = async () => {
    const json = JSON.parse((await runBin('run', ['status', '--json'], {dataDir})).stdout) as {users: Record<string, number>}
    const text = (await runBin('run', ['status'], {dataDir})).stdout
    return {users: json.users, line: /^\s*users .*$/m.exec(text)?.[0].trim()}
  }
  assert.deepEqual(await status(), {users: {owner: 1, member: 1, disabled: 0}, line: 'users    1 owner, 1 member'})

  // The children are per person, and shown so (not as "shared", another isolation mode): in
  // `status --json` (user_children), the text status, and the console's Health page.
  const full = JSON.parse((await runBin('run', ['status', '--json'], {dataDir})).stdout) as {shared_children?: unknown; user_children?: Array<{user_id: string; user_name: string; pid: number}>}
  assert.equal(full.shared_children, undefined)
  assert.deepEqual(full.user_children?.map((c) => [c.user_name, c.user_id, c.pid]).sort(), [['alice', id.alice, aliceChild], ['bob', id.bob, bobChild]])
  const text = (await runBin('run', ['status'], {dataDir})).stdout
  for (const [name, pid] of [['alice', aliceChild], ['bob', bobChild]] as const) assert.match(text, new RegExp(`user ${name} ${id[name]}\\n\\s+child pid ${pid},`))
  const consoleApi = consoleHttp(daemon.issuer)
  await consoleApi.logIn(PASSWORDS.alice)
  const health = (await consoleApi.get('/health')).text
  const labels = [...health.matchAll(/<h3>pid (\d+) · (.*?)<\/h3>/g)].map((m) => [Number(m[1]), m[2]!.replace(/<[^>]+>/g, '')])
  assert.deepEqual(labels.sort(), [[aliceChild, `user alice ${id.alice}`], [bobChild, `user bob ${id.bob}`]].sort())
  assert.doesNotMatch(health, /· shared/)

  // 5. Disable Bob: his tokens are refused on their next use, his child stops; Alice goes on.
  const disabled = await runBin('run', ['users', 'disable', 'bob', '--json'], {dataDir})
  assert.equal(disabled.code, 0, disabled.stderr)
  assert.deepEqual([JSON.parse(disabled.stdout).consents_revoked, JSON.parse(disabled.stdout).grants_revoked], [2, 2])
  const started = Date.now()
  await assert.rejects(graph(bob1), 'Bob\'s SDK client\'s token is refused')
  // His mcp-remote's access token is refused on its next use, and so is its refresh token: it
  // falls back to asking Bob to sign in again (it opens the browser a second time); the call
  // never reaches his memory.
  const pendingCall = graph(bob2)
  pendingCall.catch(() => {})
  const reopened = await bobRemote.authorizationUrl(2, 30_000)
  assert.equal(reopened.origin + reopened.pathname, `${daemon.issuer}/oauth/authorize`)
  await bob2.close()
  await assert.rejects(pendingCall)
  const stopMs = await until('Bob\'s child stopped', () => !alive(bobChild))
  t.diagnostic(`Bob refused and his child stopped within ${Date.now() - started} ms of the CLI returning (child: ${stopMs} ms)`)
  assert.ok(alive(aliceChild), 'Alice\'s child goes on')
  assert.deepEqual(await status(), {users: {owner: 1, member: 0, disabled: 1}, line: 'users    1 owner, 0 members, 1 disabled'})
  assert.match(await graph(alice2), /Alice|entities/)
  // Bob cannot sign in again either.
  const callback = await callbackServer(t)
  const provider = new MemoryProvider(callback.redirectUri, 'Bob Again')
  assert.equal(await auth(provider, {serverUrl, resourceMetadataUrl}), 'REDIRECT')
  const fresh = await (await browser.newContext()).newPage()
  await fresh.goto(provider.authorizationUrl!.href)
  await fresh.fill('#username', 'bob')
  await fresh.fill('#password', PASSWORDS.bob)
  await fresh.click('button[value=approve]')
  assert.match((await fresh.textContent('.error'))!, /Account disabled: bob is disabled/)
  assert.equal(callback.received.length, 0)
  // Enabled again (CLI), he may sign in; enabling twice is NOT_FOUND and changes nothing.
  const enabled = await runBin('run', ['users', 'enable', 'bob', '--json'], {dataDir})
  assert.equal(enabled.code, 0, enabled.stderr)
  assert.equal(JSON.parse(enabled.stdout).status, 'active')
  const twice = await runBin('run', ['users', 'enable', 'bob'], {dataDir})
  assert.equal(twice.code, 4)
  assert.match(twice.stderr, /not disabled/)
  await fresh.fill('#username', 'bob')
  await fresh.fill('#password', PASSWORDS.bob)
  const [back] = await Promise.all([callback.next(), fresh.click('button[value=approve]')])
  assert.ok(back.get('code'), 'Bob approved his new client')
})
