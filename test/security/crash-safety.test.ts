// Crash safety: the real daemon is killed with SIGKILL at a random (seeded) moment while it
// issues and rotates tokens and while the CLI writes to the same database. After each kill the
// database is inspected directly and the daemon restarted; whatever was answered with success
// before the kill must hold, nothing half-written may be visible, and no SQLITE_BUSY may reach a
// user (no CLI failure, no 5xx). Rule: DESIGN.md §Principles 5 (WAL, busy_timeout, BEGIN
// IMMEDIATE, synchronous=FULL); OAuth 2.1 §4.3.1 / RFC 9700 §4.14.2 (rotation: a refresh token
// is used once); RFC 7009 §2.2 (a revocation answered 200 is done).
//
// GATEHOUSE_CRASH_SEED=N replays a run's kill moments and choices (printed as a diagnostic);
// GATEHOUSE_CRASH_ROUNDS sets how many kills (default 4).
import {cliActor} from '../../src/audit/actor.js'
import Database from 'better-sqlite3'
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {manualClock} from '../../src/clock.js'
import {createClientAdmin} from '../../src/clients/admin.js'
import {databaseFile} from '../../src/config/paths.js'
import {createCodeIssuer} from '../../src/oauth/authorize/code-issuer.js'
import type {AuthorizationRequest} from '../../src/oauth/authorize/request.js'
import {opaqueTokenHash} from '../../src/oauth/grants/opaque-tokens.js'
import {openSqliteStore} from '../../src/store/sqlite/store.js'
import {runBin} from '../helpers/cli.js'
import {basic, generateClient, type GeneratedClient} from '../helpers/clients.js'
import {startDaemon} from '../helpers/daemon.js'
import {codeFor, register} from '../helpers/interactive.js'
import {tempDir} from '../helpers/tmp.js'

const REDIRECT = 'http://127.0.0.1/callback'
const ROUNDS = Number(process.env.GATEHOUSE_CRASH_ROUNDS ?? 4)
const BUSY = /SQLITE_BUSY|database is locked|stayed locked|\bbusy\b/i

/** mulberry32: a small seeded generator, so a failing run can be replayed with its seed. */
function seeded(seed: number) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const jtiOf = (jwt: string) => String((JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as {jti: string}).jti)

/** A refresh-token family as the client knows it: the last refresh token answered in a 200. */
interface Chain {
  live: string
  access: string
  /** A request about it failed without an answer (the kill): its state in the store is unknown. */
  uncertain: boolean
  /** /oauth/revoke answered 200 for `live`. */
  revoked: boolean
  busy: boolean
}

interface CliClient {
  id: string
  secret: string
  revoked: boolean
  /** Checked against the restarted daemon already. */
  checked: boolean
  /** oauth-revoke-client is running for it: either state is right until it exits. */
  pending: boolean
}

test('kill -9 during token issuance, rotation, revocation and CLI writes loses nothing answered and leaves nothing half-written', {timeout: 120_000}, async (t) => {
  const seed = Number(process.env.GATEHOUSE_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31))
  t.diagnostic(`seed ${seed} (GATEHOUSE_CRASH_SEED=${seed} to replay)`)
  const random = seeded(seed)
  const dataDir = tempDir(t, 'gatehouse-crash-')
  const problems: string[] = []
  const problem = (what: string) => {
    if (problems.length < 50) problems.push(what)
  }

  const service = await generateClient(dataDir, ['--name', 'crash-service'])
  const revokedAccess: string[] = []
  const chains: Chain[] = []
  const cliClients: CliClient[] = []
  let publicClient = ''
  const stats = {kills: 0, ccTokens: 0, accessRevocations: 0, codes: 0, rotations: 0, refreshRevocations: 0, cliGenerated: 0, cliRevoked: 0}

  // The CLI writes for the whole test, across kills and restarts (WAL recovery included).
  let cliStop = false
  const cliLoop = (async () => {
    for (let i = 0; !cliStop; i++) {
      const active = cliClients.filter((c) => !c.revoked)
      if (active.length > 2 && random() < 0.4) {
        const victim = active[Math.floor(random() * active.length)]!
        victim.pending = true
        const r = await runBin('oauth-revoke-client', ['--client-id', victim.id, '--yes', '--json'], {dataDir})
        victim.pending = false
        if (r.code === 0) {
          victim.revoked = true
          victim.checked = false
          stats.cliRevoked++
        } else problem(`oauth-revoke-client exited ${r.code}: ${r.stderr.trim()}`)
        if (BUSY.test(r.stderr)) problem(`busy reached the CLI user: ${r.stderr.trim()}`)
      } else {
        const r = await runBin('oauth-generate-client', ['--name', `crash-cli-${i}`, '--json'], {dataDir})
        if (r.code === 0) {
          const c = JSON.parse(r.stdout) as GeneratedClient
          cliClients.push({id: c.client_id, secret: c.client_secret, revoked: false, checked: false, pending: false})
          stats.cliGenerated++
        } else problem(`oauth-generate-client exited ${r.code}: ${r.stderr.trim()}`)
        if (BUSY.test(r.stderr)) problem(`busy reached the CLI user: ${r.stderr.trim()}`)
      }
    }
  })()
  t.after(async () => {
    cliStop = true
    await cliLoop
  })

  let daemonOutput = ''
  const start = async () => startDaemon(t, {dataDir, args: ['--auto-approve', '--log-level', 'warn']})

  try {
    for (let round = 0; round <= ROUNDS; round++) {
      inspectDatabase(dataDir, {chains, cliClients, revokedAccess}, problem)
      const daemon = await start()
      const issuer = daemon.issuer
      if (!publicClient) {
        const reg = await register(issuer, {client_name: 'crash-public', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token']})
        assert.equal(reg.status, 201)
        publicClient = String(reg.body.client_id)
      }
      await verifyAfterRestart(issuer, {service, publicClient, chains, cliClients, revokedAccess, final: round === ROUNDS}, problem)
      if (round === ROUNDS) {
        await daemon.stop()
        break
      }

      // Traffic until the kill.
      const state = {killed: false}
      const call = async (what: string, run: () => Promise<Response>): Promise<Response | undefined> => {
        try {
          const res = await run()
          if (res.status >= 500) problem(`${what}: ${res.status} ${await res.text()}`)
          return res
        } catch (error) {
          if (!state.killed) problem(`${what} failed while the daemon was up: ${(error as Error).message}`)
          return undefined
        }
      }
      const form = (path: string, params: Record<string, string>, headers: Record<string, string> = {}) =>
        fetch(`${issuer}${path}`, {method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded', ...headers}, body: new URLSearchParams(params)})
      const auth = {Authorization: basic(service.client_id, service.client_secret)}

      const clientCredentials = async () => {
        while (!state.killed) {
          const res = await call('client_credentials', () => form('/oauth/token', {grant_type: 'client_credentials'}, auth))
          if (!res) continue
          if (res.status !== 200) {
            problem(`client_credentials answered ${res.status}`)
            continue
          }
          const access = ((await res.json()) as {access_token: string}).access_token
          stats.ccTokens++
          if (random() < 0.5) {
            const rev = await call('revoke access token', () => form('/oauth/revoke', {token: access}, auth))
            if (rev?.status === 200) {
              revokedAccess.push(access)
              stats.accessRevocations++
            } else if (rev) problem(`revoking an access token answered ${rev.status}`)
          }
        }
      }

      const interactive = async () => {
        while (!state.killed) {
          const roll = random()
          const usable = chains.filter((c) => !c.uncertain && !c.revoked && !c.busy)
          if (usable.length === 0 || roll < 0.3) {
            let code: {code: string; verifier: string}
            try {
              code = await codeFor(issuer, publicClient, REDIRECT)
            } catch (error) {
              if (!state.killed) problem(`authorize failed while the daemon was up: ${(error as Error).message}`)
              continue
            }
            const res = await call('authorization_code', () =>
              form('/oauth/token', {grant_type: 'authorization_code', code: code.code, code_verifier: code.verifier, redirect_uri: REDIRECT, client_id: publicClient}),
            )
            if (!res) continue
            if (res.status !== 200) {
              problem(`authorization_code answered ${res.status}`)
              continue
            }
            const body = (await res.json()) as {access_token: string; refresh_token: string}
            chains.push({live: body.refresh_token, access: body.access_token, uncertain: false, revoked: false, busy: false})
            stats.codes++
            continue
          }
          const chain = usable[Math.floor(random() * usable.length)]!
          chain.busy = true
          try {
            if (roll < 0.85) {
              const res = await call('refresh', () => form('/oauth/token', {grant_type: 'refresh_token', refresh_token: chain.live, client_id: publicClient}))
              if (!res) chain.uncertain = true
              else if (res.status === 200) {
                const body = (await res.json()) as {access_token: string; refresh_token: string}
                chain.live = body.refresh_token
                chain.access = body.access_token
                stats.rotations++
              } else problem(`refresh of a live token answered ${res.status} ${await res.text()}`)
            } else {
              const res = await call('revoke refresh token', () => form('/oauth/revoke', {token: chain.live, client_id: publicClient}))
              if (!res) chain.uncertain = true
              else if (res.status === 200) {
                chain.revoked = true
                stats.refreshRevocations++
              } else problem(`revoking a refresh token answered ${res.status}`)
            }
          } finally {
            chain.busy = false
          }
        }
      }

      const workers = [clientCredentials(), clientCredentials(), interactive(), interactive(), interactive()]
      await sleep(200 + Math.floor(random() * 2300))
      state.killed = true
      daemon.child.kill('SIGKILL')
      await daemon.stop()
      stats.kills++
      await Promise.all(workers)
      daemonOutput += daemon.stdout() + daemon.stderr()
    }
  } finally {
    cliStop = true
    await cliLoop
  }
  // The CLI's writes after the last restart are checked too.
  inspectDatabase(dataDir, {chains, cliClients, revokedAccess}, problem)

  t.diagnostic(`observed: ${JSON.stringify(stats)}`)
  if (BUSY.test(daemonOutput)) problem(`the daemon logged a busy database: ${daemonOutput.split('\n').filter((l) => BUSY.test(l)).slice(0, 3).join(' | ')}`)
  assert.deepEqual(problems, [])
  // The run did what it claims: kills, and traffic of every kind answered before them.
  assert.equal(stats.kills, ROUNDS)
  assert.ok(stats.ccTokens > 0 && stats.accessRevocations > 0, `client credentials traffic: ${JSON.stringify(stats)}`)
  assert.ok(stats.codes > 0 && stats.rotations > 0, `interactive traffic: ${JSON.stringify(stats)}`)
  assert.ok(stats.cliGenerated > 0, `CLI traffic: ${JSON.stringify(stats)}`)
})

/** With the daemon dead (or stopped): the file as it was left, read directly. */
function inspectDatabase(
  dataDir: string,
  {chains, cliClients, revokedAccess}: {chains: Chain[]; cliClients: CliClient[]; revokedAccess: string[]},
  problem: (what: string) => void,
): void {
  let db: Database.Database
  try {
    db = new Database(databaseFile(dataDir), {fileMustExist: true})
  } catch (error) {
    if ((error as {code?: string}).code === 'SQLITE_CANTOPEN') return // before the first start
    throw error
  }
  try {
    db.pragma('busy_timeout = 10000')
    const integrity = db.pragma('integrity_check', {simple: true})
    if (integrity !== 'ok') problem(`integrity_check: ${String(integrity)}`)
    const fk = db.pragma('foreign_key_check') as unknown[]
    if (fk.length > 0) problem(`foreign_key_check: ${JSON.stringify(fk.slice(0, 3))}`)
    // Every grant has its code (it was made together with it).
    const orphans = db.prepare(`SELECT count(*) FROM grants g WHERE NOT EXISTS (SELECT 1 FROM tokens t WHERE t.family_id = g.id)`).pluck().get() as number
    if (orphans > 0) problem(`${orphans} grant(s) without any code or token`)
    // A redeemed code of a refresh-capable client left a refresh token in its family.
    const noRefresh = db
      .prepare(
        `SELECT count(*) FROM tokens c JOIN clients k ON k.id = c.client_id
         WHERE c.kind = 'authorization_code' AND c.consumed_at IS NOT NULL AND k.grant_types LIKE '%refresh_token%'
           AND NOT EXISTS (SELECT 1 FROM tokens r WHERE r.family_id = c.family_id AND r.kind = 'refresh_token')`,
      )
      .pluck()
      .get() as number
    if (noRefresh > 0) problem(`${noRefresh} redeemed code(s) without their refresh token`)
    // A consumed refresh token names a successor that exists.
    const lost = db
      .prepare(
        `SELECT count(*) FROM tokens r WHERE r.kind = 'refresh_token' AND r.consumed_at IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM tokens s WHERE s.id = json_extract(r.data, '$.successor'))`,
      )
      .pluck()
      .get() as number
    if (lost > 0) problem(`${lost} rotated refresh token(s) whose successor is missing`)

    const client = db.prepare<[string], {revoked_at: number | null}>('SELECT revoked_at FROM clients WHERE id = ?')
    for (const c of cliClients) {
      const row = client.get(c.id)
      if (!row) problem(`client ${c.id}, generated with exit 0, is missing`)
      else if (c.revoked && row.revoked_at === null) problem(`client ${c.id}, revoked with exit 0, is active again`)
    }
    const revokedJti = db.prepare(`SELECT count(*) FROM tokens WHERE kind = 'revoked_access_token' AND id = ?`).pluck()
    for (const access of revokedAccess) if (revokedJti.get(jtiOf(access)) !== 1) problem(`the revocation of access token ${jtiOf(access)} is missing`)
    const grantOf = db.prepare<[string], {revoked_at: number | null}>(
      `SELECT g.revoked_at FROM tokens t JOIN grants g ON g.id = t.family_id WHERE t.kind = 'refresh_token' AND t.id = ?`,
    )
    for (const chain of chains) {
      const row = grantOf.get(opaqueTokenHash(chain.live))
      if (!row) problem(`refresh token answered in a 200 is missing from the store`)
      else if (chain.revoked && row.revoked_at === null) problem(`a refresh token revoked with 200 has a live grant`)
    }
  } finally {
    db.close()
  }
}

/** Against the restarted daemon: every success answered before the kill still holds. */
async function verifyAfterRestart(
  issuer: string,
  {service, publicClient, chains, cliClients, revokedAccess, final}: {service: GeneratedClient; publicClient: string; chains: Chain[]; cliClients: CliClient[]; revokedAccess: string[]; final: boolean},
  problem: (what: string) => void,
): Promise<void> {
  const form = (params: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${issuer}/oauth/token`, {method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded', ...headers}, body: new URLSearchParams(params)})
  const info = (access: string) => fetch(`${issuer}/oauth/info`, {headers: {Authorization: `Bearer ${access}`}})
  const refresh = (rt: string) => form({grant_type: 'refresh_token', refresh_token: rt, client_id: publicClient})

  if ((await form({grant_type: 'client_credentials'}, {Authorization: basic(service.client_id, service.client_secret)})).status !== 200) problem('the service client lost its credentials')
  for (const access of revokedAccess) {
    const res = await info(access)
    if (res.status !== 401) problem(`an access token revoked with 200 is accepted again (${res.status})`)
  }
  for (const chain of chains) {
    if (chain.uncertain) continue
    if (chain.revoked) {
      const res = await refresh(chain.live)
      if (res.status !== 400) problem(`a refresh token revoked with 200 refreshes again (${res.status})`)
      const a = await info(chain.access)
      if (a.status !== 401) problem(`an access token of a revoked grant is accepted again (${a.status})`)
      continue
    }
    // The last refresh token answered in a 200 refreshes...
    const first = await refresh(chain.live)
    if (first.status !== 200) {
      problem(`a refresh token answered in a 200 no longer refreshes: ${first.status} ${await first.text()}`)
      chain.uncertain = true
      continue
    }
    const next = (await first.json()) as {access_token: string; refresh_token: string}
    if (!final) {
      chain.live = next.refresh_token
      chain.access = next.access_token
      continue
    }
    // ...exactly once: after its successor has been used too, presenting it again is a replay.
    const second = await refresh(next.refresh_token)
    if (second.status !== 200) problem(`the successor of a recovered refresh token does not refresh (${second.status})`)
    const again = await refresh(chain.live)
    if (again.status !== 400) problem(`a refresh token refreshed twice (${again.status})`)
  }
  // CLI clients: generated ones authenticate, revoked ones do not. Each is asked once (failed
  // authentications are rate-limited per address, so the revoked ones are kept to a few per restart).
  let revokedAsked = 0
  for (const c of cliClients) {
    if (c.checked || c.pending || (c.revoked && revokedAsked >= 8)) continue
    if (c.revoked) revokedAsked++
    c.checked = true
    const wasRevoked = c.revoked
    const res = await form({grant_type: 'client_credentials'}, {Authorization: basic(c.id, c.secret)})
    if (wasRevoked && res.status !== 401) problem(`client ${c.id}, revoked with exit 0, got ${res.status} at the token endpoint`)
    // A revocation may have begun while we asked (pending, or done by now): then either answer is right.
    if (!wasRevoked && res.status !== 200 && !c.pending && !c.revoked) problem(`client ${c.id}, generated with exit 0, got ${res.status} at the token endpoint`)
  }
}

test('a grant is written with its authorization code or not at all', async (t) => {
  // The crash between the grant's write and its code's write, made deterministic: the second
  // issuance draws the same code as the first (same 32 random bytes), so storing its code fails
  // after its grant was written. Nothing of it may remain.
  const clock = manualClock(Date.now())
  const store = openSqliteStore(tempDir(t), {clock})
  t.after(() => store.close())
  const {client} = await createClientAdmin({store, clock}).generate({name: 'app', grantTypes: ['authorization_code'], redirectUris: [REDIRECT], authMethod: 'none'}, cliActor())
  let grants = 0
  const random = (n: number) => (n === 32 ? Buffer.alloc(32, 7) : Buffer.from(String(++grants).padStart(n, '0')).subarray(0, n))
  const issue = createCodeIssuer({store, clock, random})
  const request = {client, scopes: ['mcp'], resource: 'http://127.0.0.1/mcp', redirectUri: REDIRECT, redirectUriGiven: true, codeChallenge: 'x'.repeat(43)} as unknown as AuthorizationRequest
  await issue(request, 'owner')
  await assert.rejects(issue(request, 'owner'))
  assert.equal(grants, 2, 'the second grant was attempted')
  const db = new Database(store.file, {readonly: true})
  t.after(() => db.close())
  assert.equal(db.prepare('SELECT count(*) FROM grants').pluck().get(), 1, 'no grant without its code')
  assert.equal(db.prepare(`SELECT count(*) FROM tokens WHERE kind = 'authorization_code'`).pluck().get(), 1)
})
