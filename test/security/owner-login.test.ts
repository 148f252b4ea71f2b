// Guessing the owner's password on the consent page, through the real daemon (bin/oauth-server.js).
// Rules: RFC 9700 §4.10 and NIST SP 800-63B §5.2.2 (online guessing is rate-limited), CONTRACT.md
// "Rate limits" (owner logins limited per address without locking out whoever logs in correctly),
// OWASP "Slow Down Online Guessing Attacks with Device Cookies". Budgets: src/owner/login-guard.ts
// (defaults: 5 per session, 20 per address, 10 per device, 100 in all; one hash at a time).
import assert from 'node:assert/strict'
import {readFileSync, writeFileSync} from 'node:fs'
import {test, type TestContext} from 'node:test'
import {hashPassword} from '../../src/owner/password.js'
import {openSqliteStore} from '../../src/store/sqlite/store.js'
import {runBin} from '../helpers/cli.js'
import {consentBrowser} from '../helpers/consent-browser.js'
import {startDaemon} from '../helpers/daemon.js'
import {register} from '../helpers/interactive.js'
import {tempDir} from '../helpers/tmp.js'

const PASSWORD = 'the owner password'
const REDIRECT = 'https://app.example/cb'

/**
 * The daemon with an owner password and one registered client. `realHash` sets the password with
 * `gatehouse owner set-password` (scrypt N=2^17, 128 MiB a hash); otherwise a cheaper scrypt
 * (N=2^12) is stored directly, which verifies the same way and keeps budget tests fast.
 */
async function daemonWithOwner(t: TestContext, {realHash = false} = {}) {
  const dataDir = tempDir(t)
  if (realHash) {
    const set = await runBin('run', ['owner', 'set-password', '--password-stdin'], {dataDir, input: PASSWORD})
    assert.equal(set.code, 0, set.stderr)
  } else {
    const store = openSqliteStore(dataDir)
    await store.owner.setPasswordHash(await hashPassword(PASSWORD, {params: {N: 2 ** 12, r: 8, p: 1}}), Date.now())
    await store.close()
  }
  const d = await startDaemon(t, {dataDir})
  const reg = await register(d.issuer, {client_name: 'Some App', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none'})
  assert.equal(reg.status, 201)
  return {d, clientId: String(reg.body.client_id)}
}

/** Resident memory of a process, from /proc (kB): now and the peak since the last `resetPeak`. */
function memoryOf(pid: number) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)![1])
  return {rssKb: kb('VmRSS'), peakKb: kb('VmHWM')}
}

/** Starts a new peak measurement (Linux: "5" to clear_refs resets VmHWM, proc(5)). */
const resetPeak = (pid: number) => writeFileSync(`/proc/${pid}/clear_refs`, '5')

test('40 concurrent wrong passwords: the attempt is reserved before the hash, hashes run one at a time, the rest get 429 with Retry-After; peak memory stays bounded (RFC 9700 §4.10)', async (t) => {
  const {d, clientId} = await daemonWithOwner(t, {realHash: true})
  const attacker = consentBrowser(d.issuer)
  const page = await attacker.open({client_id: clientId, redirect_uri: REDIRECT})
  assert.equal(page.status, 200)
  // Warm up (one wrong guess, one scrypt) so the baseline includes what any login costs once.
  assert.equal((await attacker.decide(page, {decision: 'approve', password: 'warm-up guess'})).status, 401)
  resetPeak(d.child.pid!)
  const before = memoryOf(d.child.pid!)

  const answers = await Promise.all(Array.from({length: 40}, (_, i) => attacker.decide(page, {decision: 'approve', password: `guess number ${i}`})))
  const after = memoryOf(d.child.pid!)
  const by = (status: number) => answers.filter((a) => a.status === status)
  const growthMb = (after.peakKb - before.rssKb) / 1024
  t.diagnostic(`daemon RSS before the flood ${Math.round(before.rssKb / 1024)} MB, peak during it ${Math.round(after.peakKb / 1024)} MB (+${Math.round(growthMb)} MB); ${by(401).length} checked, ${by(429).length} refused`)
  // One session has a budget of 5 failures (1 spent on the warm-up); each is reserved before its
  // hash, so at most 4 of the 40 can be checked, however they interleave.
  assert.ok(by(401).length <= 4, `checked: ${by(401).length}`)
  assert.equal(by(401).length + by(429).length, 40, `statuses: ${answers.map((a) => a.status)}`)
  for (const a of by(429)) assert.ok(Number(a.headers['retry-after']) >= 1, 'Retry-After on every 429')
  // Memory: one scrypt (N=2^17, r=8: 128 MiB) at a time. Before the fix, up to four ran at once
  // (libuv's pool), each holding 128 MiB.
  assert.ok(growthMb < 200, `peak grew by ${Math.round(growthMb)} MB`)

  // 40 fresh sessions at once (a session costs nothing): the per-address budget and the hash
  // slot hold just the same.
  const fresh = await Promise.all(
    Array.from({length: 40}, async (_, i) => {
      const b = consentBrowser(d.issuer)
      const p = await b.open({client_id: clientId, redirect_uri: REDIRECT})
      return b.decide(p, {decision: 'approve', password: `fresh guess ${i}`})
    }),
  )
  const checked = fresh.filter((a) => a.status === 401).length
  assert.ok(checked <= 20, `checked: ${checked}`)
  assert.equal(checked + fresh.filter((a) => a.status === 429).length, 40)
})

test("an attacker's failed guesses do not lock the owner out: the owner's fresh session gets in (CONTRACT.md rate limits; RFC 9700 §4.10)", async (t) => {
  const {d, clientId} = await daemonWithOwner(t)
  const attacker = consentBrowser(d.issuer)
  const page = await attacker.open({client_id: clientId, redirect_uri: REDIRECT})
  const statuses: number[] = []
  for (let i = 0; i < 11; i++) statuses.push((await attacker.decide(page, {decision: 'approve', password: `guess ${i}`})).status)
  assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429, 429, 429, 429, 429], 'the session runs dry after 5')
  // Even the right password is refused in the attacker's spent session.
  assert.equal((await attacker.decide(page, {decision: 'approve', password: PASSWORD})).status, 429)

  // The owner, from the same address, in a fresh browser session.
  const owner = consentBrowser(d.issuer)
  const ownerPage = await owner.open({client_id: clientId, redirect_uri: REDIRECT})
  const approved = await owner.decide(ownerPage, {decision: 'approve', password: PASSWORD})
  assert.equal(approved.status, 303)
  assert.ok(approved.location!.searchParams.get('code'))
})

test('a fresh session per guess is bounded per address; the owner\'s known browser (device token) and other addresses still get in (OWASP device cookies; RFC 9700 §4.10)', async (t) => {
  const {d, clientId} = await daemonWithOwner(t)
  const open = (b: ReturnType<typeof consentBrowser>) => b.open({client_id: clientId, redirect_uri: REDIRECT})
  // The owner logged in once from this browser before: it holds a device token.
  const owner = consentBrowser(d.issuer)
  assert.equal((await owner.decide(await open(owner), {decision: 'approve', password: PASSWORD})).status, 303)
  assert.ok([...owner.jar.keys()].includes('gatehouse-device'), 'a device token was set')
  owner.newSession()

  // The attacker, at the owner's address, starts a new session for every guess.
  const statuses: number[] = []
  for (let i = 0; i < 24; i++) {
    const b = consentBrowser(d.issuer)
    statuses.push((await b.decide(await open(b), {decision: 'approve', password: `guess ${i}`})).status)
  }
  assert.deepEqual(statuses, [...Array<number>(20).fill(401), ...Array<number>(4).fill(429)], 'at most 20 guesses per address')

  // A browser never seen before at that address is refused while the address budget is spent
  // (it cannot be told from the attacker: the trade-off in SECURITY.md) ...
  const stranger = consentBrowser(d.issuer)
  assert.equal((await stranger.decide(await open(stranger), {decision: 'approve', password: PASSWORD})).status, 429)
  // ... but the owner's browser, with its device token, is budgeted apart and gets in,
  const again = await owner.decide(await open(owner), {decision: 'approve', password: PASSWORD})
  assert.equal(again.status, 303)
  assert.ok(again.location!.searchParams.get('code'))
  // ... and so does a browser at another address.
  const elsewhere = consentBrowser(d.issuer, {localAddress: '127.0.0.2'})
  assert.equal((await elsewhere.decide(await open(elsewhere), {decision: 'approve', password: PASSWORD})).status, 303)

  // A forged or stale device token is no token: the attacker's guesses stay on the address budget.
  const forger = consentBrowser(d.issuer)
  forger.jar.set('gatehouse-device', `${'A'.repeat(22)}.${'B'.repeat(43)}`)
  assert.equal((await forger.decide(await open(forger), {decision: 'approve', password: 'forged device guess'})).status, 429)
})
