// The owner's console through upstream OpenID Connect sign-in (issue 17): the consent page's
// relying party (src/users/oidc/upstream-login.ts: code + PKCE, state, nonce, iss, ID token
// validation; OIDC Core §3.1.3.7) against a real provider (node-oidc-provider), in headless
// Chromium. An owner whose (iss, sub) is linked gets the console; a linked member gets a page
// saying the console is for owners, and no console session; a disabled owner is refused.
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'node:test'
import type {Browser, Page} from 'playwright-core'
import {launchBrowser, noBrowser} from '../helpers/browser.js'
import {runBin} from '../helpers/cli.js'
import {startDaemon} from '../helpers/daemon.js'
import {tempDir} from '../helpers/tmp.js'
import {signInAtProvider, startUpstream} from '../helpers/upstream-idp.js'

/** A fresh browser at the console login; clicks the upstream button and signs in at the provider as `login`. */
async function consoleUpstream(browser: Browser, issuer: string, login: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage()
  await page.goto(`${issuer}/console/login`)
  return signInAtProvider(page, issuer, login, 'p.upstream a.button')
}

test('Chromium: an owner signs in to the console through the upstream provider; a member and a disabled owner are refused; a member signs in to /oauth/account the same way', {skip: noBrowser, timeout: 180_000}, async (t) => {
  const dataDir = tempDir(t)
  const idp = await startUpstream(t)
  idp.accounts.set('olivia-sub', {email: 'olivia@example.com', email_verified: true, preferred_username: 'olivia'})
  idp.accounts.set('mike-sub', {email: 'mike@example.com', email_verified: true, preferred_username: 'mike'})
  for (const [name, role, sub] of [['olivia', 'owner', 'olivia-sub'], ['mike', 'member', 'mike-sub']] as const) {
    assert.equal((await runBin('run', ['users', 'add', name, '--role', role], {dataDir})).code, 0)
    const linked = await runBin('run', ['users', 'link', name, '--issuer', idp.issuer, '--subject', sub], {dataDir})
    assert.equal(linked.code, 0, linked.stderr)
  }
  const secretFile = join(dataDir, 'upstream-secret')
  writeFileSync(secretFile, `${idp.clientSecret}\n`, {mode: 0o600})
  const daemon = await startDaemon(t, {dataDir, args: ['--oidc-issuer', idp.issuer, '--oidc-client-id', idp.clientId, '--oidc-client-secret-file', secretFile]})
  await idp.configure(`${daemon.issuer}/oauth/upstream/callback`)
  const browser = await launchBrowser(t)

  // Olivia, an owner, gets the console; the Users page shows her upstream identity.
  const olivia = await consoleUpstream(browser, daemon.issuer, 'olivia-sub')
  assert.equal(new URL(olivia.url()).pathname, '/console/clients')
  await olivia.goto(`${daemon.issuer}/console/users`)
  assert.equal((await olivia.locator('tr[data-user="olivia"] .identities').textContent())!.trim(), '1')
  assert.match((await olivia.locator('tr[data-user="olivia"]').textContent())!, /you/)

  // Mike, a member, is told the console is for owners, and gets no console session.
  const mike = await consoleUpstream(browser, daemon.issuer, 'mike-sub')
  assert.match((await mike.textContent('body'))!, /Owners only[\s\S]*you signed in as mike, a member: the console is for owners/)
  await mike.goto(`${daemon.issuer}/console/users`)
  assert.equal(new URL(mike.url()).pathname, '/console/login')

  // /oauth/account offers the same "Sign in with <provider>" (Mike has no password: before, only a
  // consent page got him there); he lands on his own approvals, as a member.
  const acct = await (await browser.newContext()).newPage()
  await acct.goto(`${daemon.issuer}/oauth/account`)
  assert.match((await acct.textContent('p.upstream a.button'))!, /Sign in with 127\.0\.0\.1:\d+/)
  await signInAtProvider(acct, daemon.issuer, 'mike-sub', 'p.upstream a.button')
  assert.equal(acct.url(), `${daemon.issuer}/oauth/account`)
  assert.match((await acct.textContent('body'))!, /Signed in as mike \(member\)/)

  // Olivia disabled (CLI): her console session ends at its next request, and signing in again is refused.
  assert.equal((await runBin('run', ['users', 'disable', 'olivia'], {dataDir})).code, 0)
  await olivia.goto(`${daemon.issuer}/console/users`)
  assert.equal(new URL(olivia.url()).pathname, '/console/login')
  const again = await consoleUpstream(browser, daemon.issuer, 'olivia-sub')
  assert.match((await again.textContent('body'))!, /Account disabled/)
  await again.goto(`${daemon.issuer}/console/clients`)
  assert.equal(new URL(again.url()).pathname, '/console/login')

  // Without a browser session of this server (no login page seen: cookies blocked, or a link from
  // elsewhere in a fresh browser) there is nothing to bind the state to: no redirect to the provider.
  const bare = await fetch(`${daemon.issuer}/console/login/upstream`, {redirect: 'manual'})
  assert.equal(bare.status, 400)
  assert.ok(!bare.headers.get('location'), 'no redirect to the provider')
})
