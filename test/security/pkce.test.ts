// PKCE attacks. Rules: RFC 7636 §4.1-§4.6, OAuth 2.1 §4.1.1 (S256 required), RFC 9700 §2.1.1
// (PKCE downgrade: a challenge is required, `plain` refused, a verifier without a challenge
// refused), MCP authorization §Authorization Code Protection.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {codeVerifierMatches} from '../../src/oauth/authorize/pkce.js'
import {assertStillServes, interactiveServer, perFile, WEB} from '../helpers/attacks.js'
import {authorize, codeFor, pkce, token} from '../helpers/interactive.js'

const server = perFile((t) => interactiveServer(t))

/** An authorization request whose PKCE part is `pkceParams`: must go back to the client with invalid_request and no code. */
async function refusedBack(pkceParams: Record<string, string>) {
  const {s, victim} = server()
  const r = await authorize(s.issuer, {response_type: 'code', client_id: victim, redirect_uri: WEB, state: 'st', ...pkceParams})
  assert.equal(r.status, 302)
  assert.equal(r.location!.origin + r.location!.pathname, WEB)
  assert.equal(r.location!.searchParams.get('error'), 'invalid_request')
  assert.equal(r.location!.searchParams.get('state'), 'st')
  assert.equal(r.location!.searchParams.get('iss'), s.issuer)
  assert.equal(r.location!.searchParams.get('code'), null)
}

test('PKCE: an authorization request without a code_challenge is refused (RFC 9700 §2.1.1; OAuth 2.1 §4.1.1)', async () => {
  await refusedBack({})
})

test('PKCE: a challenge without a method (RFC 7636 §4.3 would default to plain) is refused (RFC 9700 §2.1.1)', async () => {
  await refusedBack({code_challenge: pkce().challenge})
})

test('PKCE: downgrade to the plain method is refused (OAuth 2.1 §4.1.1; MCP authorization: S256)', async () => {
  await refusedBack({code_challenge: pkce().verifier, code_challenge_method: 'plain'})
})

test('PKCE: an unknown method is refused (RFC 7636 §4.3)', async () => {
  await refusedBack({code_challenge: pkce().challenge, code_challenge_method: 's256'})
})

test('PKCE: a challenge that is not a base64url SHA-256 is refused (RFC 7636 §4.2)', async () => {
  await refusedBack({code_challenge: 'short', code_challenge_method: 'S256'})
  await refusedBack({code_challenge: `${'a'.repeat(42)}=`, code_challenge_method: 'S256'})
})

/** Redeems a fresh code with `params` replacing the verifier; returns the refusal. */
async function redeem(params: Record<string, string | undefined>) {
  const {s, victim} = server()
  const {code, verifier} = await codeFor(s.issuer, victim, WEB)
  const all: Record<string, string | undefined> = {grant_type: 'authorization_code', code, client_id: victim, redirect_uri: WEB, code_verifier: verifier, ...params}
  const sent = Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as Record<string, string>
  const r = await token(s.issuer, sent)
  assert.equal(r.body.access_token, undefined)
  // The failed attempt did not consume the code (a code thief cannot burn it either way).
  assert.equal((await token(s.issuer, {...sent, code_verifier: verifier})).status, 200)
  return r
}

test('PKCE: a wrong code_verifier is refused (RFC 7636 §4.6)', async () => {
  const r = await redeem({code_verifier: pkce().verifier})
  assert.equal(r.status, 400)
  assert.equal(r.body.error, 'invalid_grant')
})

test('PKCE: a verifier of the right shape that does not hash to the challenge is refused (RFC 7636 §4.6)', async () => {
  const r = await redeem({code_verifier: 'x'.repeat(43)})
  assert.equal(r.body.error, 'invalid_grant')
})

test('PKCE: the code_challenge sent back as the verifier (plain downgrade at the token endpoint) is refused (RFC 9700 §2.1.1)', async () => {
  const {s, victim} = server()
  const p = pkce()
  const a = await authorize(s.issuer, {response_type: 'code', client_id: victim, redirect_uri: WEB, code_challenge: p.challenge, code_challenge_method: 'S256'})
  const code = a.location!.searchParams.get('code')!
  const r = await token(s.issuer, {grant_type: 'authorization_code', code, client_id: victim, redirect_uri: WEB, code_verifier: p.challenge})
  assert.equal(r.body.error, 'invalid_grant')
})

test('PKCE: a token request without a code_verifier is refused (RFC 7636 §4.5)', async () => {
  const r = await redeem({code_verifier: undefined})
  assert.equal(r.status, 400)
  assert.equal(r.body.error, 'invalid_request')
})

test('PKCE: verifiers outside 43..128 unreserved characters are refused (RFC 7636 §4.1)', async () => {
  for (const v of ['a'.repeat(42), 'a'.repeat(129), `${'a'.repeat(42)} `, `${'a'.repeat(42)}/`, `${'a'.repeat(42)}\u00e9`]) {
    const r = await redeem({code_verifier: v})
    assert.equal(r.body.error, 'invalid_grant', JSON.stringify(v))
  }
  await assertStillServes(server().s.issuer)
})

test('PKCE: a verifier with no stored challenge, or a truncated one, never matches (RFC 9700 §2.1.1 downgrade)', () => {
  const {verifier, challenge} = pkce()
  assert.equal(codeVerifierMatches(challenge, verifier), true)
  assert.equal(codeVerifierMatches(null, verifier), false)
  assert.equal(codeVerifierMatches(challenge, undefined), false)
  assert.equal(codeVerifierMatches(challenge, verifier.slice(0, 42)), false)
})
