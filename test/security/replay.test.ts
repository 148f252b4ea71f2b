// Replay of authorization codes and refresh tokens, one after another and racing. Rules: RFC
// 6749 §4.1.2 and §10.5 (a code is used once; on a second use the server SHOULD revoke what it
// issued), OAuth 2.1 §4.1.3, RFC 9700 §4.14.2 (refresh token rotation: a replayed refresh token
// revokes the family), RFC 6749 §6 (a refresh token is bound to its client and cannot widen
// scope), RFC 8707 §2.2 (nor change the resource).
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {assertStillServes, infoWith, interactiveServer, perFile, WEB} from '../helpers/attacks.js'
import {codeFor, token} from '../helpers/interactive.js'

const server = perFile((t) => interactiveServer(t))

async function tokensFor(s: {issuer: string}, clientId: string) {
  const {code, verifier} = await codeFor(s.issuer, clientId, WEB)
  const base = {grant_type: 'authorization_code', code, client_id: clientId, redirect_uri: WEB, code_verifier: verifier}
  const first = await token(s.issuer, base)
  assert.equal(first.status, 200)
  return {base, first: first.body}
}
const refresh = (issuer: string, clientId: string, rt: string, extra: Record<string, string> = {}) =>
  token(issuer, {grant_type: 'refresh_token', refresh_token: rt, client_id: clientId, ...extra})

test('code replay: a second redemption is refused and revokes the tokens the code produced (RFC 6749 §4.1.2, §10.5; OAuth 2.1 §4.1.3)', async () => {
  const {s, victim} = server()
  const {base, first} = await tokensFor(s, victim)
  assert.equal((await infoWith(s.issuer, first.access_token!)).status, 200)
  const replay = await token(s.issuer, base)
  assert.equal(replay.status, 400)
  assert.equal(replay.body.error, 'invalid_grant')
  assert.equal(replay.body.access_token, undefined)
  assert.equal((await infoWith(s.issuer, first.access_token!)).status, 401, 'the access token is revoked')
  assert.equal((await refresh(s.issuer, victim, first.refresh_token!)).status, 400, 'the refresh token is revoked')
})

test('code replay, racing: of three simultaneous redemptions exactly one wins (RFC 6749 §4.1.2; BEGIN IMMEDIATE)', async () => {
  const {s, victim} = server()
  const {code, verifier} = await codeFor(s.issuer, victim, WEB)
  const base = {grant_type: 'authorization_code', code, client_id: victim, redirect_uri: WEB, code_verifier: verifier}
  const results = await Promise.all([1, 2, 3].map(() => token(s.issuer, base)))
  assert.equal(results.filter((r) => r.status === 200).length, 1)
  assert.ok(results.filter((r) => r.status !== 200).every((r) => r.body.error === 'invalid_grant'))
})

test('an unknown (guessed) code is refused (RFC 6749 §5.2 invalid_grant)', async () => {
  const {s, victim} = server()
  const r = await token(s.issuer, {grant_type: 'authorization_code', code: 'gtac_nothing', client_id: victim, redirect_uri: WEB, code_verifier: 'a'.repeat(43)})
  assert.equal(r.body.error, 'invalid_grant')
})

test('an expired code (older than 10 minutes) is refused (OAuth 2.1 §4.1.2)', async (t) => {
  const {s, victim} = await interactiveServer(t)
  const {code, verifier} = await codeFor(s.issuer, victim, WEB)
  s.clock.advance(10 * 60_000 + 1)
  const r = await token(s.issuer, {grant_type: 'authorization_code', code, client_id: victim, redirect_uri: WEB, code_verifier: verifier})
  assert.equal(r.body.error, 'invalid_grant')
})

test('refresh: another client presenting the refresh token is refused (RFC 6749 §6, §10.4)', async () => {
  const {s, victim, attacker} = server()
  const {first} = await tokensFor(s, victim)
  const r = await refresh(s.issuer, attacker, first.refresh_token!)
  assert.equal(r.body.error, 'invalid_grant')
  assert.equal((await refresh(s.issuer, victim, first.refresh_token!)).status, 200, 'the rightful client still refreshes')
})

test('refresh: asking for a wider scope is refused (RFC 6749 §6)', async () => {
  const {s, victim} = server()
  const {first} = await tokensFor(s, victim)
  assert.equal((await refresh(s.issuer, victim, first.refresh_token!, {scope: 'mcp admin'})).body.error, 'invalid_scope')
})

test('refresh: asking for another resource is refused (RFC 8707 §2.2)', async () => {
  const {s, victim} = server()
  const {first} = await tokensFor(s, victim)
  assert.equal((await refresh(s.issuer, victim, first.refresh_token!, {resource: 'https://elsewhere.example/mcp'})).body.error, 'invalid_target')
})

test('refresh, racing: two simultaneous refreshes leave exactly one live refresh token in the family (RFC 9700 §4.14.2)', async (t) => {
  const {s, victim} = await interactiveServer(t, {interactive: {refreshGraceMs: 60_000}})
  const {first} = await tokensFor(s, victim)
  const raced = await Promise.all([refresh(s.issuer, victim, first.refresh_token!), refresh(s.issuer, victim, first.refresh_token!)])
  assert.ok(raced.every((r) => r.status === 200), 'the second is the grace-period retry')
  // The retry gets the same successor again, never a second branch (test/security/refresh-family.test.ts).
  assert.equal(raced[0]!.body.refresh_token, raced[1]!.body.refresh_token)
  assert.equal((await refresh(s.issuer, victim, raced[0]!.body.refresh_token!)).status, 200)
})

test('refresh replay after the grace period: refused, and the whole family is revoked (RFC 9700 §4.14.2)', async (t) => {
  const {s, victim} = await interactiveServer(t, {interactive: {refreshGraceMs: 60_000}})
  const {first} = await tokensFor(s, victim)
  const rotated = await refresh(s.issuer, victim, first.refresh_token!)
  assert.equal(rotated.status, 200)
  s.clock.advance(61_000)
  const replay = await refresh(s.issuer, victim, first.refresh_token!)
  assert.equal(replay.body.error, 'invalid_grant')
  assert.equal((await refresh(s.issuer, victim, rotated.body.refresh_token!)).body.error, 'invalid_grant', 'the current refresh token died with the family')
  assert.equal((await infoWith(s.issuer, rotated.body.access_token!)).status, 401, 'and its access token')
  await assertStillServes(s.issuer)
})
