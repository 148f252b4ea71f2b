import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'node:test'
import {createRemoteJWKSet, decodeProtectedHeader, exportSPKI, generateKeyPair, jwtVerify} from 'jose'
import * as oidc from 'openid-client'
import {runBin} from '../helpers/cli.js'
import {basic, fetchToken, generateClient} from '../helpers/clients.js'
import {startDaemon} from '../helpers/daemon.js'
import {tempDir} from '../helpers/tmp.js'

async function discover(issuer: string, clientId: string, auth: oidc.ClientAuth) {
  return oidc.discovery(new URL(issuer), clientId, undefined, auth, {algorithm: 'oauth2', execute: [oidc.allowInsecureRequests]})
}

test('a standard OAuth client discovers the server and gets tokens with each client authentication method', async (t) => {
  const dataDir = tempDir(t)
  const secretClient = await generateClient(dataDir, ['--name', 'basic-agent', '--scope', 'mcp memories:read'])
  const postClient = await generateClient(dataDir, ['--name', 'post-agent', '--auth-method', 'client_secret_post'])
  const {publicKey, privateKey} = await generateKeyPair('ES256', {extractable: true})
  const pemFile = join(dataDir, '..', `${process.pid}-agent.pub.pem`)
  writeFileSync(pemFile, await exportSPKI(publicKey))
  t.after(() => import('node:fs').then((fs) => fs.rmSync(pemFile, {force: true})))
  const jwtClient = await generateClient(dataDir, ['--name', 'jwt-agent', '--auth-method', 'private_key_jwt', '--public-key', pemFile])
  assert.equal(jwtClient.client_secret, null)

  const daemon = await startDaemon(t, {dataDir})
  const jwks = createRemoteJWKSet(new URL(`${daemon.issuer}/.well-known/jwks.json`))

  const cases: Array<[string, oidc.ClientAuth, string]> = [
    [secretClient.client_id, oidc.ClientSecretBasic(secretClient.client_secret), 'mcp memories:read'],
    [postClient.client_id, oidc.ClientSecretPost(postClient.client_secret), 'mcp'],
    [jwtClient.client_id, oidc.PrivateKeyJwt(privateKey), 'mcp'],
  ]
  for (const [clientId, auth, scope] of cases) {
    const config = await discover(daemon.issuer, clientId, auth)
    const meta = config.serverMetadata()
    assert.equal(meta.issuer, daemon.issuer)
    assert.equal(meta.token_endpoint, `${daemon.issuer}/oauth/token`)
    const tokens = await oidc.clientCredentialsGrant(config)
    assert.equal(tokens.token_type, 'bearer')
    assert.equal(tokens.scope, scope)
    assert.equal(tokens.expires_in, 3600)
    assert.equal(tokens.refresh_token, undefined, 'no refresh token for client_credentials (RFC 6749 §4.4.3)')

    // Verified as a third-party resource server would: against the published JWKS (RFC 9068).
    const {payload, protectedHeader} = await jwtVerify(tokens.access_token, jwks, {
      issuer: daemon.issuer,
      audience: `${daemon.issuer}/mcp`,
      typ: 'at+jwt',
      algorithms: ['ES256'],
    })
    assert.ok(protectedHeader.kid)
    assert.equal(payload.client_id, clientId)
    assert.equal(payload.sub, clientId)
    assert.equal(payload.scope, scope)
    assert.ok(payload.jti && payload.iat && payload.exp === payload.iat + 3600)

    const introspected = await oidc.tokenIntrospection(config, tokens.access_token)
    assert.equal(introspected.active, true)
    assert.equal(introspected.client_id, clientId)
    assert.equal(introspected.scope, scope)
  }

  // A narrower scope and the RFC 8707 resource are honoured.
  const config = await discover(daemon.issuer, secretClient.client_id, oidc.ClientSecretBasic(secretClient.client_secret))
  const narrow = await oidc.clientCredentialsGrant(config, {scope: 'memories:read', resource: `${daemon.issuer}/mcp`})
  assert.equal(narrow.scope, 'memories:read')

  // Revocation (RFC 7009), then introspection says inactive and /oauth/info refuses it.
  const info = await fetch(`${daemon.issuer}/oauth/info`, {headers: {Authorization: `Bearer ${narrow.access_token}`}})
  assert.equal(info.status, 200)
  const infoBody = (await info.json()) as Record<string, string>
  assert.deepEqual(Object.keys(infoBody).sort(), ['client_id', 'client_name', 'expires_at', 'scope'])
  assert.equal(infoBody.client_name, 'basic-agent')
  await oidc.tokenRevocation(config, narrow.access_token)
  assert.equal((await oidc.tokenIntrospection(config, narrow.access_token)).active, false)
  const refused = await fetch(`${daemon.issuer}/oauth/info`, {headers: {Authorization: `Bearer ${narrow.access_token}`}})
  assert.equal(refused.status, 401)
  assert.match(refused.headers.get('www-authenticate') ?? '', /error="invalid_token"/)
})

test('introspection and revocation only ever concern the caller\'s own tokens', async (t) => {
  const dataDir = tempDir(t)
  const alice = await generateClient(dataDir, ['--name', 'alice'])
  const bob = await generateClient(dataDir, ['--name', 'bob'])
  const daemon = await startDaemon(t, {dataDir})
  const aliceToken = await fetchToken(daemon.issuer, alice)
  const bobConfig = await discover(daemon.issuer, bob.client_id, oidc.ClientSecretBasic(bob.client_secret))
  assert.deepEqual(await oidc.tokenIntrospection(bobConfig, aliceToken), {active: false})
  await oidc.tokenRevocation(bobConfig, aliceToken)
  const aliceConfig = await discover(daemon.issuer, alice.client_id, oidc.ClientSecretBasic(alice.client_secret))
  assert.equal((await oidc.tokenIntrospection(aliceConfig, aliceToken)).active, true, "bob's revocation had no effect")
})

test('a client revoked with the CLI is refused on its very next request, tokens already issued included', async (t) => {
  const dataDir = tempDir(t)
  const agent = await generateClient(dataDir, ['--name', 'doomed'])
  const daemon = await startDaemon(t, {dataDir})
  const token = await fetchToken(daemon.issuer, agent)
  const info = () => fetch(`${daemon.issuer}/oauth/info`, {headers: {Authorization: `Bearer ${token}`}})
  assert.equal((await info()).status, 200)

  const r = await runBin('oauth-revoke-client', ['--client-id', agent.client_id, '--yes'], {dataDir})
  assert.equal(r.code, 0, r.stderr)

  assert.equal((await info()).status, 401)
  const again = await fetch(`${daemon.issuer}/oauth/token`, {
    method: 'POST',
    headers: {Authorization: basic(agent.client_id, agent.client_secret), 'Content-Type': 'application/x-www-form-urlencoded'},
    body: 'grant_type=client_credentials',
  })
  assert.equal(again.status, 401)
  assert.equal(((await again.json()) as {error: string}).error, 'invalid_client')
})

test('keys rotate while running: the new key signs at once, the old one keeps verifying', async (t) => {
  const dataDir = tempDir(t)
  const agent = await generateClient(dataDir, ['--name', 'rotor'])
  const daemon = await startDaemon(t, {dataDir})
  const before = await fetchToken(daemon.issuer, agent)
  const oldKid = decodeProtectedHeader(before).kid

  const rotated = await runBin('run', ['keys', 'rotate', '--json'], {dataDir})
  assert.equal(rotated.code, 0, rotated.stderr)
  const newKid = (JSON.parse(rotated.stdout) as {kid: string}).kid
  assert.notEqual(newKid, oldKid)

  const after = await fetchToken(daemon.issuer, agent)
  assert.equal(decodeProtectedHeader(after).kid, newKid, 'the running daemon signs with the new key')
  const published = (await (await fetch(`${daemon.issuer}/.well-known/jwks.json`)).json()) as {keys: Array<{kid: string; d?: string}>}
  assert.deepEqual(published.keys.map((k) => k.kid).sort(), [newKid, oldKid].sort())
  assert.ok(published.keys.every((k) => k.d === undefined), 'no private material in the JWKS')
  for (const token of [before, after]) {
    const res = await fetch(`${daemon.issuer}/oauth/info`, {headers: {Authorization: `Bearer ${token}`}})
    assert.equal(res.status, 200)
  }
  const listed = JSON.parse((await runBin('run', ['keys', 'list', '--json'], {dataDir})).stdout) as Array<{kid: string; status: string}>
  assert.deepEqual(listed.map((k) => [k.kid, k.status]), [[newKid, 'active'], [oldKid, 'retired']])
})

test('the daemon stops cleanly on SIGINT and SIGTERM, and logs one line per request without secrets', async (t) => {
  const dataDir = tempDir(t)
  const agent = await generateClient(dataDir, ['--name', 'quiet'])
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const daemon = await startDaemon(t, {dataDir, args: ['--log-format', 'json']})
    const token = await fetchToken(daemon.issuer, agent)
    assert.equal(await daemon.stop(signal), 0)
    const lines = daemon.stderr().trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>)
    const request = lines.find((l) => l.msg === 'request' && l.path === '/oauth/token')!
    assert.equal(request.status, 200)
    assert.equal(request.client_id, agent.client_id)
    assert.equal(typeof request.ms, 'number')
    const all = daemon.stdout() + daemon.stderr()
    assert.ok(!all.includes(agent.client_secret), 'secret never logged')
    assert.ok(!all.includes(token.split('.')[2]!), 'token never logged')
  }
})
