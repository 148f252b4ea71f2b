// A refresh token family under theft (issue 11, item 10). Rules: RFC 9700 §4.14.2 (refresh
// token rotation: when a rotated-away token is presented, the server cannot tell thief from
// client and revokes the active refresh token, i.e. the family); OAuth 2.1 §4.3.1 (rotation);
// MCP authorization (2025-11-25, "Token Theft": servers MUST rotate refresh tokens for public
// clients). The grace for a lost response may only hand back the SAME successor again, never
// mint a second branch. Every order of legit and thief requests ends in one of two states: one
// live token shared by whoever holds it, or the whole family (access tokens too) revoked.
import Database from 'better-sqlite3'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {join} from 'node:path'
import {test, type TestContext} from 'node:test'
import {databaseFile} from '../../src/config/paths.js'
import {opaqueTokenHash} from '../../src/oauth/grants/opaque-tokens.js'
import {assertStillServes, infoWith, interactiveServer, WEB} from '../helpers/attacks.js'
import {repoRoot} from '../helpers/cli.js'
import {codeFor, token} from '../helpers/interactive.js'

const GRACE = 60_000

async function family(t: TestContext) {
  const {s, victim} = await interactiveServer(t, {interactive: {refreshGraceMs: GRACE}})
  const {code, verifier} = await codeFor(s.issuer, victim, WEB)
  const first = await token(s.issuer, {grant_type: 'authorization_code', code, client_id: victim, redirect_uri: WEB, code_verifier: verifier})
  assert.equal(first.status, 200)
  const refresh = (rt: string, extra: Record<string, string> = {}) => token(s.issuer, {grant_type: 'refresh_token', refresh_token: rt, client_id: victim, ...extra})
  return {s, victim, rt0: first.body.refresh_token!, at0: first.body.access_token!, refresh}
}

/** Live (unconsumed, unrevoked) refresh tokens in the family of `rt`, read from the database file. */
function liveInFamily(dataDir: string, rt: string): number {
  const db = new Database(databaseFile(dataDir), {readonly: true})
  try {
    const familyId = db.prepare('SELECT family_id FROM tokens WHERE id = ?').pluck().get(opaqueTokenHash(rt)) as string
    return db.prepare(`SELECT count(*) FROM tokens WHERE family_id = ? AND kind = 'refresh_token' AND consumed_at IS NULL AND revoked_at IS NULL`).pluck().get(familyId) as number
  } finally {
    db.close()
  }
}

test("the issue's sequence: legit RT0→RT1, thief RT0 within the grace gets the same RT1 (no branch), legit RT1→RT2, thief RT0 again revokes everything (RFC 9700 §4.14.2)", async (t) => {
  const {s, rt0, refresh} = await family(t)
  const legit1 = await refresh(rt0)
  assert.equal(legit1.status, 200)
  const rt1 = legit1.body.refresh_token!

  const thief = await refresh(rt0)
  assert.equal(thief.status, 200, 'within the grace, an idempotent retry')
  assert.equal(thief.body.refresh_token, rt1, 'the grace returns the same successor, never a new branch')
  assert.equal(liveInFamily(s.dataDir, rt0), 1)

  const legit2 = await refresh(rt1)
  assert.equal(legit2.status, 200, 'the rightful client is not locked out by the retry')
  const rt2 = legit2.body.refresh_token!
  assert.notEqual(rt2, rt1)

  const again = await refresh(rt0)
  assert.equal(again.status, 400)
  assert.equal(again.body.error, 'invalid_grant')
  assert.equal((await refresh(rt2)).body.error, 'invalid_grant', 'RT2 died with the family')
  assert.equal((await infoWith(s.issuer, legit2.body.access_token!)).status, 401, 'and the access tokens of the family')
  assert.equal((await infoWith(s.issuer, thief.body.access_token!)).status, 401)
  assert.equal(liveInFamily(s.dataDir, rt0), 0)
})

test('legit RT0→RT1→RT2, then the thief presents RT0 within the grace: its successor was used, so the family is revoked (RFC 9700 §4.14.2)', async (t) => {
  const {s, rt0, refresh} = await family(t)
  const rt1 = (await refresh(rt0)).body.refresh_token!
  const second = await refresh(rt1)
  assert.equal(second.status, 200)
  const thief = await refresh(rt0)
  assert.equal(thief.body.error, 'invalid_grant')
  assert.equal(thief.body.refresh_token, undefined)
  assert.equal((await refresh(second.body.refresh_token!)).body.error, 'invalid_grant')
  assert.equal((await infoWith(s.issuer, second.body.access_token!)).status, 401)
})

test('the thief rotates first (RT0→RT1→RT2), then the rightful client presents RT0: the thief keeps nothing (RFC 9700 §4.14.2)', async (t) => {
  const {s, rt0, refresh} = await family(t)
  const t1 = await refresh(rt0)
  const t2 = await refresh(t1.body.refresh_token!)
  assert.equal(t2.status, 200)
  const legit = await refresh(rt0)
  assert.equal(legit.body.error, 'invalid_grant')
  assert.equal((await refresh(t2.body.refresh_token!)).body.error, 'invalid_grant', "the thief's RT2 is dead")
  assert.equal((await infoWith(s.issuer, t2.body.access_token!)).status, 401, "and the thief's access token")
})

test('a retry after the grace period revokes the family, even while the successor is unused (RFC 9700 §4.14.2)', async (t) => {
  const {s, rt0, refresh} = await family(t)
  const rotated = await refresh(rt0)
  s.clock.advance(GRACE + 1)
  assert.equal((await refresh(rt0)).body.error, 'invalid_grant')
  assert.equal((await refresh(rotated.body.refresh_token!)).body.error, 'invalid_grant')
  await assertStillServes(s.issuer)
})

test('a lost response: the retried RT0 gets the same RT1 every time within the grace, which then works; the family never holds two live tokens', async (t) => {
  const {s, rt0, refresh} = await family(t)
  const first = await refresh(rt0)
  const retries = [await refresh(rt0), await refresh(rt0, {scope: 'mcp'})]
  for (const r of retries) {
    assert.equal(r.status, 200)
    assert.equal(r.body.refresh_token, first.body.refresh_token)
    assert.equal((await infoWith(s.issuer, r.body.access_token!)).status, 200)
  }
  assert.equal(liveInFamily(s.dataDir, rt0), 1)
  assert.equal((await refresh(first.body.refresh_token!)).status, 200)
  assert.equal(liveInFamily(s.dataDir, rt0), 1)
})

test('a family that has branched (two live refresh tokens, whatever made them) is revoked when any member is presented', async (t) => {
  const {s, rt0, at0, refresh} = await family(t)
  // A second live token in the family, as the old grace rule left behind.
  const db = new Database(databaseFile(s.dataDir))
  const row = db.prepare('SELECT * FROM tokens WHERE id = ?').get(opaqueTokenHash(rt0)) as Record<string, unknown>
  db.prepare('INSERT INTO tokens (id, kind, client_id, family_id, subject, scope, resource, data, created_at, expires_at) VALUES (?,?,?,?,?,?,?,?,?,?)').run(
    opaqueTokenHash('gtrt_branch'),
    'refresh_token',
    row.client_id,
    row.family_id,
    row.subject,
    row.scope,
    row.resource,
    '{}',
    row.created_at,
    row.expires_at,
  )
  db.close()
  const r = await refresh(rt0)
  assert.equal(r.body.error, 'invalid_grant')
  assert.equal((await refresh('gtrt_branch')).body.error, 'invalid_grant')
  assert.equal((await infoWith(s.issuer, at0)).status, 401)
  assert.equal(liveInFamily(s.dataDir, rt0), 0)
})

/** Starts one racer process per token; resolves when all are ready, then releases them together. */
async function race(t: TestContext, dataDir: string, clientId: string, now: number, tokens: string[]) {
  const racers = tokens.map((rt) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test', 'fixtures', 'refresh-racer.ts'), dataDir, rt, clientId, String(now), String(GRACE)], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    t.after(() => void (child.exitCode === null && child.kill()))
    let out = ''
    let err = ''
    child.stderr.on('data', (d) => (err += d))
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        out += d
        if (out.startsWith('ready\n')) resolve()
      })
      child.once('exit', (code) => reject(new Error(`racer exited ${code} before ready: ${err}`)))
    })
    const done = new Promise<{outcome: string; refreshToken?: string}>((resolve, reject) =>
      child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out.split('\n')[1]!)) : reject(new Error(`racer exited ${code}: ${err}`)))),
    )
    return {child, ready, done}
  })
  await Promise.all(racers.map((r) => r.ready))
  for (const r of racers) r.child.stdin.end('go\n')
  return Promise.all(racers.map((r) => r.done))
}

test('racing across processes (BEGIN IMMEDIATE): four presentations of RT0 at once all get the same RT1, and the family holds one live token', async (t) => {
  const {s, victim, rt0} = await family(t)
  const results = await race(t, s.dataDir, victim, s.clock.now(), [rt0, rt0, rt0, rt0])
  assert.deepEqual(results.map((r) => r.outcome), ['rotated', 'rotated', 'rotated', 'rotated'])
  assert.equal(new Set(results.map((r) => r.refreshToken)).size, 1, 'one successor, whoever won')
  assert.equal(liveInFamily(s.dataDir, rt0), 1)
})

test('racing across processes: thief RT0 against legit RT1 ends either with one shared live token or with the family revoked, never with a branch', async (t) => {
  const seen = new Set<string>()
  for (let round = 0; round < 3; round++) {
    const {s, victim, rt0, refresh} = await family(t)
    const rt1 = (await refresh(rt0)).body.refresh_token!
    const [thief, legit] = await race(t, s.dataDir, victim, s.clock.now(), [rt0, rt1])
    const live = liveInFamily(s.dataDir, rt0)
    if (thief!.outcome === 'rotated') {
      // The retry ran first: it returned RT1 itself; then RT1 rotated to the one live token.
      assert.equal(thief!.refreshToken, rt1)
      assert.equal(legit!.outcome, 'rotated')
      assert.equal(live, 1)
    } else {
      // RT1 rotated first: RT0's successor was used, so the family died, RT2 with it.
      assert.equal(thief!.outcome, 'replayed')
      assert.equal(legit!.outcome, 'rotated')
      assert.equal(live, 0)
      assert.equal((await refresh(legit!.refreshToken!)).body.error, 'invalid_grant')
    }
    seen.add(thief!.outcome)
  }
  t.diagnostic(`outcomes seen for the thief: ${[...seen].join(', ')}`)
})
