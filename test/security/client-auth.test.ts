// Client authentication attacks. Rules: RFC 6749 §2.3 (one method per request), §2.3.1 (Basic
// credentials form-encoded) and §5.2 (invalid_client, no oracle), RFC 9700 §4.10 (brute force),
// RFC 7523 §3 and RFC 7521 §5.2 (client assertions: signature, iss = sub, aud, exp, jti once),
// RFC 8725 §3.1 (no `none`).
import {cliActor} from '../../src/audit/actor.js'
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {exportJWK, generateKeyPair, SignJWT} from 'jose'
import {secretMatches, hashSecret} from '../../src/clients/credentials.js'
import {assertStillServes, forgeJwt, generousLimits, perFile, postForm} from '../helpers/attacks.js'
import {basic, fetchToken} from '../helpers/clients.js'
import {startInProcess} from '../helpers/server.js'

const CC = 'grant_type=client_credentials'
const server = perFile(async (t) => {
  const s = await startInProcess(t, generousLimits)
  const agent = await s.client({name: 'agent', scopes: ['mcp']})
  const gone = await s.client({name: 'gone'})
  await s.admin.revoke(gone.client_id, {by: 'test'}, cliActor())
  const {publicKey, privateKey} = await generateKeyPair('ES256', {extractable: true})
  const {client: signer} = await s.admin.generate({name: 'signer', authMethod: 'private_key_jwt', jwks: {keys: [await exportJWK(publicKey)]}}, cliActor())
  return {s, agent, gone, signer: signer.id, privateKey, tokenUrl: `${s.issuer}/oauth/token`}
})
const send = (body: string, headers: Record<string, string> = {}) => postForm(server().tokenUrl, body, headers)

async function invalidClient(r: Awaited<ReturnType<typeof send>>) {
  assert.equal(r.status, 401, JSON.stringify(r.body))
  assert.equal(r.body.error, 'invalid_client')
  assert.equal(r.body.access_token, undefined)
  assert.equal(r.headers.get('cache-control'), 'no-store')
}

test('no oracle: unknown client, revoked client, wrong secret and a secret for a key-based client get byte-identical answers (RFC 6749 §5.2)', async () => {
  const {agent, gone, signer} = server()
  const answers = await Promise.all([
    send(CC, {Authorization: basic('gtc_nobody', 'gts_x')}),
    send(CC, {Authorization: basic(gone.client_id, gone.client_secret)}),
    send(CC, {Authorization: basic(agent.client_id, 'gts_x')}),
    send(CC, {Authorization: basic(signer, 'gts_x')}),
  ])
  for (const r of answers) {
    await invalidClient(r)
    assert.deepEqual(r.body, answers[0]!.body)
    assert.equal(r.headers.get('www-authenticate'), answers[0]!.headers.get('www-authenticate'))
    assert.match(r.headers.get('www-authenticate') ?? '', /^Basic realm=/)
  }
})

test('timing independence, structurally: an unknown client costs the same hash and constant-time compare as a known one (RFC 6749 §2.3.1; src/oauth/client-auth.ts)', () => {
  // client-auth.ts calls secretMatches(presented, null) for an unknown or revoked client: it
  // hashes the presented secret and compares against 32 zero bytes, and never matches.
  const secret = 'gts_' + 'a'.repeat(43)
  assert.equal(secretMatches(secret, null), false)
  assert.equal(secretMatches(secret, hashSecret(secret)), true)
  assert.equal(secretMatches(secret, 'short-or-corrupt-hash'), false)
  assert.equal(secretMatches('', null), false)
  // Even a presented value whose hash we cannot control cannot match "no client".
  assert.equal(secretMatches(Buffer.alloc(32).toString('hex'), null), false)
})

test('no client authentication at all is invalid_client (RFC 6749 §5.2)', async () => {
  await invalidClient(await send(CC))
})

test('malformed Basic credentials are invalid_client with a Basic challenge (RFC 6749 §2.3.1)', async () => {
  for (const h of ['Basic !!!not-base64', 'Basic ' + Buffer.from('no-colon').toString('base64'), 'Basic ' + Buffer.from('%zz:%zz').toString('base64')]) {
    const r = await send(CC, {Authorization: h})
    await invalidClient(r)
    assert.match(r.headers.get('www-authenticate') ?? '', /^Basic/)
  }
})

test('an over-long client_id is refused before any lookup (RFC 6749 §5.2)', async () => {
  await invalidClient(await send(CC, {Authorization: basic('gtc_' + 'x'.repeat(5000), 'gts_x')}))
})

test('mixed methods: Basic and client_secret in the body is refused (RFC 6749 §2.3)', async () => {
  const {agent} = server()
  const r = await send(`${CC}&client_id=${agent.client_id}&client_secret=${agent.client_secret}`, {Authorization: basic(agent.client_id, agent.client_secret)})
  assert.equal(r.status, 400)
  assert.equal(r.body.error, 'invalid_request')
  assert.equal(r.body.access_token, undefined)
})

test('mixed methods: a client secret together with a client assertion is refused (RFC 6749 §2.3; RFC 7521 §4.2)', async () => {
  const {agent} = server()
  const r = await send(`${CC}&client_id=${agent.client_id}&client_secret=${agent.client_secret}&client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer&client_assertion=a.b.c`)
  assert.equal(r.body.error, 'invalid_request')
})

test('a body client_id that differs from the Basic one is refused (RFC 6749 §2.3)', async () => {
  const {agent} = server()
  const r = await send(`${CC}&client_id=gtc_someone_else`, {Authorization: basic(agent.client_id, agent.client_secret)})
  assert.equal(r.body.error, 'invalid_request')
})

test('a confidential client cannot skip authentication by sending only its client_id (RFC 6749 §3.2.1)', async () => {
  const {agent} = server()
  await invalidClient(await send(`${CC}&client_id=${agent.client_id}`))
})

/** A private_key_jwt assertion for the signer client, with `claims` overriding the defaults. */
async function assertion(claims: Record<string, unknown>, key?: import('jose').CryptoKey) {
  const {s, signer, privateKey, tokenUrl} = server()
  const now = Math.floor(s.clock.now() / 1000)
  return new SignJWT({iss: signer, sub: signer, aud: tokenUrl, jti: crypto.randomUUID(), iat: now, exp: now + 60, ...claims}).setProtectedHeader({alg: 'ES256'}).sign(key ?? privateKey)
}
const withAssertion = (a: string) => send(new URLSearchParams({grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: a}).toString())

test('assertion replay: the same jti is accepted once (RFC 7523 §3 item 7; RFC 7521 §5.2)', async () => {
  const good = await assertion({})
  assert.equal((await withAssertion(good)).status, 200)
  const replay = await withAssertion(good)
  await invalidClient(replay)
  assert.match(replay.body.error_description!, /already used/)
})

test('assertion replay, racing: of three simultaneous uses exactly one succeeds (RFC 7521 §5.2)', async () => {
  const good = await assertion({})
  const results = await Promise.all([1, 2, 3].map(() => withAssertion(good)))
  assert.equal(results.filter((r) => r.status === 200).length, 1)
})

for (const [attack, make] of [
  ['signed with a foreign key', async () => assertion({}, (await generateKeyPair('ES256')).privateKey)],
  ['for another audience', () => assertion({aud: 'https://elsewhere.example/token'})],
  ['expired', () => assertion({iat: Math.floor(server().s.clock.now() / 1000) - 700, exp: Math.floor(server().s.clock.now() / 1000) - 600})],
  ['living longer than 10 minutes', () => assertion({exp: Math.floor(server().s.clock.now() / 1000) + 3600})],
  ['with iss differing from sub', () => assertion({sub: 'gtc_someone_else'})],
  ['without a jti', () => assertion({jti: undefined})],
  ['with alg none', async () => forgeJwt({alg: 'none'}, {iss: server().signer, sub: server().signer, aud: server().tokenUrl, jti: 'x', exp: Math.floor(server().s.clock.now() / 1000) + 60})],
  ['that is garbage', async () => 'not.a.jwt'],
] as const) {
  test(`a client assertion ${attack} is refused (RFC 7523 §3)`, async () => {
    await invalidClient(await withAssertion(await make()))
  })
}

test('failed authentication is rate-limited per client and per address, without locking out good clients (RFC 9700 §4.10; CONTRACT.md)', async (t) => {
  const s = await startInProcess(t, {authFailures: {perClient: {burst: 3, perMinute: 3}, perAddress: {burst: 5, perMinute: 5}}})
  const victim = await s.client({name: 'victim'})
  const bystander = await s.client({name: 'bystander'})
  await fetchToken(s.issuer, bystander) // has authenticated from this address before
  const tokenUrl = `${s.issuer}/oauth/token`
  const attempt = (id: string, secret: string) => postForm(tokenUrl, CC, {Authorization: basic(id, secret)})
  for (let i = 0; i < 3; i++) assert.equal((await attempt(victim.client_id, 'gts_guess')).status, 401)
  const limited = await attempt(victim.client_id, 'gts_guess')
  assert.equal(limited.status, 429)
  assert.ok(Number(limited.headers.get('retry-after')) >= 1)
  // Even the right secret waits while the client's budget is spent.
  assert.equal((await attempt(victim.client_id, victim.client_secret)).status, 429)
  // The address budget: unknown clients from 127.0.0.1 are cut off ...
  assert.equal((await attempt('gtc_x1', 'a')).status, 401)
  assert.equal((await attempt('gtc_x2', 'a')).status, 401)
  assert.equal((await attempt('gtc_x3', 'a')).status, 429)
  // ... while a client that authenticates correctly from the same address keeps working.
  assert.ok(await fetchToken(s.issuer, bystander))
  // Budgets refill with time (the server's clock).
  s.clock.advance(60_000)
  assert.ok(await fetchToken(s.issuer, victim))
  await assertStillServes(s.issuer)
})
