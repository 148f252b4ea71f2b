/**
 * Upstream OpenID Connect sign-in (issue 17) against a real provider (node-oidc-provider on a
 * loopback port, its own login and consent pages), driven in headless Chromium, with the MCP SDK
 * v1 client getting the code. Gatehouse is the relying party through openid-client: code + PKCE,
 * state, nonce, RFC 9207 iss, ID token validation (OIDC Core §3.1.3.7). (iss, sub) maps to one
 * local user, never an e-mail.
 */
import assert from 'node:assert/strict'
import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {test, type TestContext} from 'node:test'
import {auth} from '@modelcontextprotocol/sdk/client/auth.js'
import {calculateJwkThumbprint, decodeJwt, exportJWK, exportPKCS8, generateKeyPair} from 'jose'
import type {Browser, Page} from 'playwright-core'
import {launchBrowser, noBrowser} from '../helpers/browser.js'
import {runBin} from '../helpers/cli.js'
import {startDaemon} from '../helpers/daemon.js'
import {callbackServer, MemoryProvider} from '../helpers/oauth-client.js'
import {tempDir} from '../helpers/tmp.js'
import {signInAtProvider, startUpstream} from '../helpers/upstream-idp.js'

type UserRow = {id: string; name: string; role: string; password: boolean}
const usersOf = async (dataDir: string) => JSON.parse((await runBin('run', ['users', 'list', '--json'], {dataDir})).stdout) as UserRow[]

/** A fresh browser (no cookies) at the consent page of a newly registered client. */
async function consentPage(t: TestContext, browser: Browser, issuer: string) {
  const callback = await callbackServer(t)
  const provider = new MemoryProvider(callback.redirectUri, 'Upstream Client')
  const serverUrl = `${issuer}/mcp`
  assert.equal(await auth(provider, {serverUrl}), 'REDIRECT')
  const page = await (await browser.newContext()).newPage()
  await page.goto(provider.authorizationUrl!.href)
  return {page, callback, provider, serverUrl}
}

const signInUpstream = (page: Page, issuer: string, login: string) => signInAtProvider(page, issuer, login)

test('upstream sign-in: allowed people get one account per (iss, sub); others, forgeries and replays are refused and create nothing', {skip: noBrowser}, async (t) => {
  const dataDir = tempDir(t)
  const idp = await startUpstream(t)
  idp.accounts.set('alice-sub', {email: 'alice@example.com', email_verified: true, preferred_username: 'alice'})
  idp.accounts.set('dave-sub', {email: 'dave@example.com', email_verified: true})
  idp.accounts.set('eve-sub', {email: 'eve@elsewhere.example', email_verified: true, preferred_username: 'eve'})
  idp.accounts.set('mallory-sub', {email: 'mallory@example.com', email_verified: false, preferred_username: 'mallory'})
  idp.accounts.set('frank-sub', {email: 'frank@example.com', email_verified: true, preferred_username: 'frank'})
  // A local password user whose name is the address an upstream account will claim.
  const local = await runBin('run', ['users', 'add', 'dave@example.com', '--password-stdin', '--json'], {dataDir, input: 'dave local password\n'})
  assert.equal(local.code, 0, local.stderr)
  const localDave = JSON.parse(local.stdout) as UserRow
  const secretFile = join(dataDir, 'upstream-secret')
  writeFileSync(secretFile, `${idp.clientSecret}\n`, {mode: 0o600})
  const daemon = await startDaemon(t, {
    dataDir,
    args: ['--oidc-issuer', idp.issuer, '--oidc-client-id', idp.clientId, '--oidc-client-secret-file', secretFile, '--oidc-allow-domain', 'example.com', '--oidc-auto-create'],
  })
  await idp.configure(`${daemon.issuer}/oauth/upstream/callback`)
  const browser = await launchBrowser(t)

  // 1. Alice signs in upstream: an account is made (member, no password), and the consent page names her.
  const a = await consentPage(t, browser, daemon.issuer)
  assert.match((await a.page.textContent('a.button'))!, /Sign in with 127\.0\.0\.1:\d+/)
  await signInUpstream(a.page, daemon.issuer, 'alice-sub')
  assert.match((await a.page.textContent('body'))!, /Signed in as alice\b/)
  const [q] = await Promise.all([a.callback.next(), a.page.click('button[value=approve]')])
  assert.equal(await auth(a.provider, {serverUrl: a.serverUrl, authorizationCode: q.get('code')!}), 'AUTHORIZED')
  let users = await usersOf(dataDir)
  const alice = users.find((u) => u.name === 'alice')!
  assert.deepEqual([alice.role, alice.password], ['member', false])
  assert.equal(decodeJwt(a.provider.savedTokens!.access_token).sub, alice.id)

  // 2. Her e-mail changes upstream; same sub: the same user.
  idp.accounts.set('alice-sub', {email: 'alice.renamed@example.com', email_verified: true, preferred_username: 'alice-new'})
  const a2 = await consentPage(t, browser, daemon.issuer)
  await signInUpstream(a2.page, daemon.issuer, 'alice-sub')
  assert.match((await a2.page.textContent('body'))!, /Signed in as alice\b/)
  assert.equal((await usersOf(dataDir)).length, users.length, 'no second account')

  // 3. An upstream e-mail equal to a local password user's name is not that user.
  const d = await consentPage(t, browser, daemon.issuer)
  await signInUpstream(d.page, daemon.issuer, 'dave-sub')
  const body = (await d.page.textContent('body'))!
  assert.match(body, /Signed in as dave\b/)
  assert.doesNotMatch(body, /Signed in as dave@example\.com/)
  users = await usersOf(dataDir)
  const upstreamDave = users.find((u) => u.name === 'dave')!
  assert.notEqual(upstreamDave.id, localDave.id)
  assert.equal(users.find((u) => u.name === 'dave@example.com')?.password, true, 'the local user is as it was')

  // 4. Not on the allow-list (another domain; an unverified address of the right domain): a clear page, no account.
  for (const login of ['eve-sub', 'mallory-sub']) {
    const e = await consentPage(t, browser, daemon.issuer)
    await signInUpstream(e.page, daemon.issuer, login)
    assert.match((await e.page.textContent('h1'))!, /Not allowed/)
    assert.match((await e.page.textContent('body'))!, /No account was created/)
  }
  assert.equal((await usersOf(dataDir)).length, users.length)

  // 5. Forged and replayed upstream responses: refused, nothing created.
  const refused = async (expect: RegExp) => {
    const f = await consentPage(t, browser, daemon.issuer)
    await signInUpstream(f.page, daemon.issuer, 'frank-sub')
    assert.match((await f.page.textContent('h1'))!, expect)
    assert.ok(!(await usersOf(dataDir)).some((u) => u.name === 'frank'), 'no account made')
  }
  // The authorization response with another state, or another issuer (RFC 9207 §2.4).
  idp.tamperRedirect((url) => url.searchParams.set('state', 'forged-state'))
  await refused(/Sign-in refused/)
  idp.tamperRedirect((url) => url.searchParams.set('iss', 'https://evil.example'))
  await refused(/Sign-in failed/)
  idp.tamperRedirect(undefined)
  for (const [what, change, otherKey] of [
    ['nonce', (c: Record<string, unknown>) => ({...c, nonce: 'another-nonce'}), false],
    ['audience', (c: Record<string, unknown>) => ({...c, aud: 'someone-else'}), false],
    ['iss claim', (c: Record<string, unknown>) => ({...c, iss: 'https://evil.example'}), false],
    ['another key', (c: Record<string, unknown>) => c, true],
  ] as const) {
    idp.tamper(change, {otherKey})
    await refused(/Sign-in failed/)
    t.diagnostic(`forged ID token refused: ${what}`)
  }
  idp.tamper(undefined)
  // Replay: a real callback, used once, then again in the same browser.
  const r = await consentPage(t, browser, daemon.issuer)
  let callbackUrl = ''
  r.page.on('request', (req) => {
    if (req.url().includes('/oauth/upstream/callback')) callbackUrl = req.url()
  })
  await signInUpstream(r.page, daemon.issuer, 'frank-sub')
  assert.match((await r.page.textContent('body'))!, /Signed in as frank\b/, 'the untampered provider signs frank in')
  const count = (await usersOf(dataDir)).length
  await r.page.goto(callbackUrl)
  assert.match((await r.page.textContent('h1'))!, /Sign-in refused/)
  assert.equal((await usersOf(dataDir)).length, count)
})

test('provider with the spec default (claims of the email and profile scopes in UserInfo only, OIDC Core §5.4): the allow-list reads UserInfo; a claim never sent is named on the page; the start-up banner names the provider and the redirect URI to register', {skip: noBrowser, timeout: 240_000}, async (t) => {
  const dataDir = tempDir(t)
  const idp = await startUpstream(t)
  idp.accounts.set('uma-sub', {email: 'uma@example.com', email_verified: true, preferred_username: 'uma'})
  idp.accounts.set('gus-sub', {preferred_username: 'gus', groups: ['staff']})
  idp.accounts.set('eve-sub', {email: 'eve@elsewhere.example', email_verified: true, preferred_username: 'eve', groups: ['guests']})
  idp.accounts.set('nadia-sub', {preferred_username: 'nadia'})
  const secretFile = join(dataDir, 'upstream-secret')
  writeFileSync(secretFile, `${idp.clientSecret}\n`, {mode: 0o600})
  const daemon = await startDaemon(t, {
    dataDir,
    args: ['--oidc-issuer', idp.issuer, '--oidc-client-id', idp.clientId, '--oidc-client-secret-file', secretFile, '--oidc-allow-domain', 'example.com', '--oidc-allow-claim', 'groups=staff', '--oidc-auto-create'],
  })
  // The start-up banner names the provider and the redirect URI to register there: registered as printed, sign-in works.
  // (The banner's lines after "listening on" may arrive in a later chunk: wait for them.)
  for (let i = 0; i < 200 && !/who may sign in/.test(daemon.stdout()); i++) await new Promise((r) => setTimeout(r, 25))
  const banner = daemon.stdout()
  assert.match(banner, new RegExp(`sign-in via +${idp.issuer.replace(/[.]/g, '\\.')} +\\(client id gatehouse, client_secret_basic`))
  assert.match(banner, /who may sign in domain example\.com, claim groups=staff; accounts made at first sign-in/)
  const printed = /redirect URI +(\S+) +\(register it at the provider\)/.exec(banner)?.[1]
  assert.equal(printed, `${daemon.issuer}/oauth/upstream/callback`)
  await idp.configure(printed, {}, {conformIdTokenClaims: true})
  const browser = await launchBrowser(t)

  // Uma (verified e-mail of the domain) and Gus (group staff, no e-mail): their claims are only in
  // UserInfo; both get in, named from UserInfo's preferred_username.
  for (const [login, name] of [['uma-sub', 'uma'], ['gus-sub', 'gus']] as const) {
    const p = await consentPage(t, browser, daemon.issuer)
    await signInUpstream(p.page, daemon.issuer, login)
    assert.match((await p.page.textContent('body'))!, new RegExp(`Signed in as ${name}\\b`), `${login} allowed through UserInfo`)
  }
  // Eve sends every claim, none matching: not allowed.
  const e = await consentPage(t, browser, daemon.issuer)
  await signInUpstream(e.page, daemon.issuer, 'eve-sub')
  assert.match((await e.page.textContent('h1'))!, /Not allowed/)
  // Nadia's provider sends none of what the allow-list reads: the page names those claims, not "not allowed".
  const n = await consentPage(t, browser, daemon.issuer)
  await signInUpstream(n.page, daemon.issuer, 'nadia-sub')
  assert.match((await n.page.textContent('h1'))!, /Sign-in incomplete/)
  assert.match((await n.page.textContent('body'))!, /did not send the claims email, email_verified, groups/)
  assert.deepEqual((await usersOf(dataDir)).map((u) => u.name).sort(), ['gus', 'uma'])
  assert.match(daemon.stdout() + daemon.stderr(), /did not send a claim the allow-list reads.*email, email_verified, groups/)
})

test('upstream down or answering garbage: an error page, nothing created', {skip: noBrowser}, async (t) => {
  const dataDir = tempDir(t)
  const garbage = createServer((_req, res) => res.writeHead(200, {'Content-Type': 'application/json'}).end('{"issuer": 42, "not": "metadata"'))
  await new Promise<void>((resolve) => garbage.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((r) => garbage.close(() => r())))
  const down = createServer()
  await new Promise<void>((resolve) => down.listen(0, '127.0.0.1', resolve))
  const downPort = (down.address() as AddressInfo).port
  await new Promise<void>((r) => down.close(() => r()))
  const secretFile = join(dataDir, 'secret')
  writeFileSync(secretFile, 'x')
  const browser = await launchBrowser(t)
  for (const issuer of [`http://127.0.0.1:${downPort}`, `http://127.0.0.1:${(garbage.address() as AddressInfo).port}`]) {
    const daemon = await startDaemon(t, {dataDir, args: ['--oidc-issuer', issuer, '--oidc-client-id', 'g', '--oidc-client-secret-file', secretFile, '--oidc-allow-domain', 'example.com', '--oidc-auto-create']})
    const {page} = await consentPage(t, browser, daemon.issuer)
    const [response] = await Promise.all([page.waitForResponse((r) => r.url().includes('/oauth/upstream/start')), page.click('a.button')])
    assert.equal(response.status(), 502)
    assert.match((await page.textContent('h1'))!, /Sign-in unavailable/)
    assert.equal((await usersOf(dataDir)).length, 0)
    await daemon.stop()
  }
  // Bad configuration is refused at start with a clear message.
  const bad = await runBin('oauth-server', ['--port', '0', '--oidc-issuer', 'http://idp.example', '--oidc-client-id', 'g', '--oidc-client-secret-file', secretFile], {dataDir})
  assert.notEqual(bad.code, 0)
  assert.match(bad.stderr, /--oidc-issuer must be https/)
  const open = await runBin('oauth-server', ['--port', '0', '--oidc-issuer', 'https://idp.example', '--oidc-client-id', 'g', '--oidc-client-secret-file', secretFile, '--oidc-auto-create'], {dataDir})
  assert.match(open.stderr, /--oidc-auto-create needs an allow-list/)
})

test('private_key_jwt towards the provider (RFC 7523 §2.2, OIDC Core §9): a registered key signs in; a wrong key is refused at the token endpoint, the page says so, nothing is created; bad flags are clear errors', {skip: noBrowser, timeout: 300_000}, async (t) => {
  const idp = await startUpstream(t)
  idp.accounts.set('kim-sub', {email: 'kim@example.com', email_verified: true, preferred_username: 'kim'})
  // Gatehouse's key as PEM (no kid: the kid is its RFC 7638 thumbprint), registered with the provider as a public JWKS.
  const good = await generateKeyPair('ES256', {extractable: true})
  const publicJwk = await exportJWK(good.publicKey)
  const kid = await calculateJwkThumbprint(publicJwk, 'sha256')
  // Another key, as a JWK that claims the registered kid: its signature does not verify.
  const wrong = await generateKeyPair('ES256', {extractable: true})
  const dirs = {good: tempDir(t), wrong: tempDir(t)}
  const keyFiles = {good: join(dirs.good, 'upstream-key.pem'), wrong: join(dirs.wrong, 'upstream-key.jwk')}
  writeFileSync(keyFiles.good, await exportPKCS8(good.privateKey), {mode: 0o600})
  writeFileSync(keyFiles.wrong, JSON.stringify({...(await exportJWK(wrong.privateKey)), kid}), {mode: 0o600})
  const args = (file: string) => ['--oidc-issuer', idp.issuer, '--oidc-client-id', idp.clientId, '--oidc-client-key-file', file, '--oidc-allow-domain', 'example.com', '--oidc-auto-create']
  const daemons = {good: await startDaemon(t, {dataDir: dirs.good, args: args(keyFiles.good)}), wrong: await startDaemon(t, {dataDir: dirs.wrong, args: args(keyFiles.wrong)})}
  await idp.configure([daemons.good, daemons.wrong].map((d) => `${d.issuer}/oauth/upstream/callback`), {
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    jwks: {keys: [{...publicJwk, kid, alg: 'ES256', use: 'sig'}]},
  })
  const browser = await launchBrowser(t)

  // The registered key: the provider accepts the client assertion, Kim is signed in and created.
  const k = await consentPage(t, browser, daemons.good.issuer)
  await signInUpstream(k.page, daemons.good.issuer, 'kim-sub')
  assert.match((await k.page.textContent('body'))!, /Signed in as kim\b/)
  assert.deepEqual((await usersOf(dirs.good)).map((u) => u.name), ['kim'])

  // The wrong key: invalid_client at the token endpoint; the page says so; no account.
  const w = await consentPage(t, browser, daemons.wrong.issuer)
  await signInUpstream(w.page, daemons.wrong.issuer, 'kim-sub')
  assert.match((await w.page.textContent('h1'))!, /Sign-in failed/)
  assert.match((await w.page.textContent('body'))!, /refused this server's client authentication \(invalid_client, private_key_jwt\)/)
  assert.deepEqual(await usersOf(dirs.wrong), [])

  // Exactly one of secret and key; a key file that is no private key is refused at start.
  const secretFile = join(dirs.wrong, 'secret')
  writeFileSync(secretFile, 'x')
  const publicFile = join(dirs.wrong, 'public.jwk')
  writeFileSync(publicFile, JSON.stringify(publicJwk))
  const start = (extra: string[]) => runBin('oauth-server', ['--port', '0', '--oidc-issuer', idp.issuer, '--oidc-client-id', 'g', ...extra], {dataDir: tempDir(t)})
  const both = await start(['--oidc-client-secret-file', secretFile, '--oidc-client-key-file', keyFiles.good])
  assert.notEqual(both.code, 0)
  assert.match(both.stderr, /one of --oidc-client-secret-file \(client_secret_basic\) and --oidc-client-key-file \(private_key_jwt\), not both/)
  const neither = await start([])
  assert.notEqual(neither.code, 0)
  assert.match(neither.stderr, /needs --oidc-client-secret-file \(client_secret_basic\) or --oidc-client-key-file/)
  for (const [file, why] of [[publicFile, /a public key/], [secretFile, /not a PEM private key or a JWK/]] as const) {
    const r = await start(['--oidc-client-key-file', file])
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, why)
  }
})
