import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {request} from 'node:http'
import {request as httpsRequest} from 'node:https'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'node:test'
import {normalizePath} from '../../src/http/app.js'
import {resolveIssuer} from '../../src/config/issuer.js'
import {GatehouseError} from '../../src/errors.js'
import {startInProcess} from '../helpers/server.js'
import {tempDir} from '../helpers/tmp.js'

/** A raw request, so that Host and other headers are exactly what the test says. */
function raw(port: number, {method = 'GET', path = '/', headers = {}}: {method?: string; path?: string; headers?: Record<string, string>}) {
  return new Promise<{status: number; headers: Record<string, string | string[] | undefined>; body: string}>((resolve, reject) => {
    const req = request({host: '127.0.0.1', port, method, path, headers, setHost: !('Host' in headers)}, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d: string) => (body += d))
      res.on('end', () => resolve({status: res.statusCode!, headers: res.headers, body}))
    })
    req.on('error', reject)
    req.end()
  })
}

test('routing: 404 JSON, 405 with Allow, HEAD as GET, security headers everywhere', async (t) => {
  const s = await startInProcess(t)
  const port = s.server.port
  const missing = await raw(port, {path: '/nope'})
  assert.equal(missing.status, 404)
  assert.equal(JSON.parse(missing.body).error, 'not_found')
  const wrong = await raw(port, {method: 'DELETE', path: '/oauth/token'})
  assert.equal(wrong.status, 405)
  assert.equal(wrong.headers.allow, 'POST, OPTIONS')
  const head = await raw(port, {method: 'HEAD', path: '/.well-known/oauth-authorization-server'})
  assert.equal(head.status, 200)
  for (const r of [missing, wrong, head]) {
    assert.equal(r.headers['x-content-type-options'], 'nosniff')
    assert.equal(r.headers['x-frame-options'], 'DENY')
    assert.match(String(r.headers['content-security-policy']), /frame-ancestors 'none'/)
  }
})

test('DNS rebinding: a Host that is not ours is refused when bound to loopback', async (t) => {
  const s = await startInProcess(t)
  const port = s.server.port
  const evil = await raw(port, {path: '/.well-known/oauth-authorization-server', headers: {Host: `evil.example:${port}`}})
  assert.equal(evil.status, 403)
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
    assert.equal((await raw(port, {path: '/.well-known/oauth-authorization-server', headers: {Host: host}})).status, 200, host)
  }
})

test('CORS: public endpoints answer preflights for any origin and expose WWW-Authenticate', async (t) => {
  const s = await startInProcess(t)
  const pre = await raw(s.server.port, {
    method: 'OPTIONS',
    path: '/oauth/token',
    headers: {Origin: 'http://localhost:6274', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, content-type'},
  })
  assert.equal(pre.status, 204)
  assert.equal(pre.headers['access-control-allow-origin'], '*')
  assert.match(String(pre.headers['access-control-allow-methods']), /POST/)
  assert.match(String(pre.headers['access-control-allow-headers']), /Authorization/)
  const meta = await raw(s.server.port, {path: '/.well-known/oauth-authorization-server', headers: {Origin: 'http://localhost:6274'}})
  assert.equal(meta.headers['access-control-allow-origin'], '*')
  assert.match(String(meta.headers['access-control-expose-headers']), /WWW-Authenticate/)
})

test('oversized request heads get 431 and the daemon keeps serving', async (t) => {
  const s = await startInProcess(t)
  const big = await raw(s.server.port, {path: '/.well-known/jwks.json', headers: {'X-Big': 'x'.repeat(20_000)}})
  assert.equal(big.status, 431)
  assert.equal((await raw(s.server.port, {path: '/.well-known/jwks.json'})).status, 200)
})

test('metadata: every URL derives from the issuer; behind a proxy path prefix and with path insertion too', async (t) => {
  const s = await startInProcess(t, {issuer: 'https://gw.example.com/tenant'})
  const port = s.server.port
  const hostHeader = {Host: 'gw.example.com'}
  for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/oauth-authorization-server/tenant', '/tenant/.well-known/oauth-authorization-server']) {
    const r = await raw(port, {path, headers: hostHeader})
    assert.equal(r.status, 200, path)
    const meta = JSON.parse(r.body) as Record<string, unknown>
    assert.equal(meta.issuer, 'https://gw.example.com/tenant')
    assert.equal(meta.token_endpoint, 'https://gw.example.com/tenant/oauth/token')
    assert.equal(meta.jwks_uri, 'https://gw.example.com/tenant/.well-known/jwks.json')
    for (const key of ['grant_types_supported', 'token_endpoint_auth_methods_supported', 'scopes_supported', 'response_types_supported', 'code_challenge_methods_supported', 'introspection_endpoint', 'revocation_endpoint']) {
      assert.ok(key in meta, key)
    }
  }
})

test('--issuer must be https unless loopback, absolute, without query or fragment', () => {
  const bad = (issuer: string) => assert.throws(() => resolveIssuer({issuer, host: '127.0.0.1', port: 8080, tls: false}), (e: unknown) => e instanceof GatehouseError && e.code === 'CONFIG')
  bad('http://example.com')
  bad('https://example.com/?x=1')
  bad('https://example.com/#f')
  bad('ftp://example.com')
  bad('not a url')
  bad('https://user:pw@example.com')
  assert.equal(resolveIssuer({issuer: 'http://localhost:9000', host: '127.0.0.1', port: 8080, tls: false}).href, 'http://localhost:9000/')
  assert.equal(resolveIssuer({host: '0.0.0.0', port: 8080, tls: true}).href, 'https://127.0.0.1:8080/')
  assert.equal(normalizePath('/t/oauth/token', '/t'), '/oauth/token')
  assert.equal(normalizePath('/.well-known/oauth-protected-resource/t/mcp', '/t'), '/.well-known/oauth-protected-resource/mcp')
  assert.equal(normalizePath('/tx/oauth/token', '/t'), '/tx/oauth/token')
})

test('--tls-cert/--tls-key serve HTTPS with HSTS', async (t) => {
  const dir = tempDir(t)
  const cert = join(dir, 'cert.pem')
  const key = join(dir, 'key.pem')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], {stdio: 'ignore'})
  const s = await startInProcess(t, {tls: {certFile: cert, keyFile: key}})
  assert.match(s.issuer, /^https:\/\/127\.0\.0\.1:\d+$/)
  const body = await new Promise<{status: number; hsts: string | undefined; text: string}>((resolve, reject) => {
    const req = httpsRequest(`${s.issuer}/.well-known/oauth-authorization-server`, {ca: readFileSync(cert)}, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (d: string) => (text += d))
      res.on('end', () => resolve({status: res.statusCode!, hsts: res.headers['strict-transport-security'] as string | undefined, text}))
    })
    req.on('error', reject)
    req.end()
  })
  assert.equal(body.status, 200)
  assert.ok(body.hsts)
  assert.equal((JSON.parse(body.text) as {issuer: string}).issuer, s.issuer)
})
