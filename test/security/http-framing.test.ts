// Malformed and smuggling-style HTTP at the daemon's front door. Rules: RFC 9112 §6.1 (a message
// with both Transfer-Encoding and Content-Length is an attack vector; reject), §3.2 (exactly one
// Host), MCP security best practices (local servers: DNS rebinding). Nothing here may be served
// as a request, and the daemon must keep serving afterwards.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {basic, fetchToken} from '../helpers/clients.js'
import {rawExchange, statuses} from '../helpers/raw-http.js'
import {startInProcess} from '../helpers/server.js'

test('request smuggling shapes are refused, never served as a second request', async (t) => {
  const s = await startInProcess(t)
  const agent = await s.client({name: 'victim'})
  const port = s.server.port
  const host = `127.0.0.1:${port}`
  const smuggled = `GET /oauth/info HTTP/1.1\r\nHost: ${host}\r\n\r\n`
  const cases = [
    // CL.TE: both headers.
    `POST /oauth/token HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n0\r\n\r\n${smuggled}`,
    // Duplicate, conflicting Content-Length.
    `POST /oauth/token HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 0\r\nContent-Length: 40\r\n\r\n${smuggled}`,
    // Obfuscated Transfer-Encoding.
    `POST /oauth/token HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: xchunked\r\n\r\n${smuggled}`,
    // Bare LF line endings and a space before the colon.
    `POST /oauth/token HTTP/1.1\nHost : ${host}\n\n`,
    // Two Host headers.
    `GET /.well-known/jwks.json HTTP/1.1\r\nHost: ${host}\r\nHost: evil.example\r\n\r\n`,
    // Header value with a NUL.
    `GET /.well-known/jwks.json HTTP/1.1\r\nHost: ${host}\r\nX-A: a\u0000b\r\n\r\n`,
    // Garbage request line.
    `\u0016\u0003\u0001\u0000\u00a5\u0001\u0000\u0000\r\n\r\n`,
  ]
  for (const payload of cases) {
    const raw = await rawExchange(port, payload)
    const codes = statuses(raw)
    assert.ok(codes.length <= 1, `one response at most, got ${codes.join(',')} for ${JSON.stringify(payload.slice(0, 60))}`)
    assert.ok(codes.every((c) => c >= 400), `refused: ${codes.join(',')} for ${JSON.stringify(payload.slice(0, 60))}`)
  }
  assert.ok(await fetchToken(s.issuer, agent), 'still serving')
  void basic
})

test('path tricks do not reach endpoints by another name', async (t) => {
  const s = await startInProcess(t)
  const port = s.server.port
  const host = `127.0.0.1:${port}`
  for (const path of ['/oauth/../oauth/info', '//oauth/info', '/oauth/info/', '/OAUTH/INFO', '/oauth/%69nfo', '/oauth/info%00', '/oauth/info;x', '/oauth//info']) {
    const raw = await rawExchange(port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)
    const [code] = statuses(raw)
    // The WHATWG URL parser resolves dot segments ("/oauth/../oauth/info" is /oauth/info): that
    // one reaches /oauth/info and is refused for want of a token (401); nothing else is routed.
    if (path === '/oauth/../oauth/info') assert.equal(code, 401, path)
    else assert.equal(code, 404, path)
  }
  const absolute = await rawExchange(port, `GET http://evil.example/oauth/info HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)
  assert.equal(statuses(absolute)[0], 401, 'absolute-form targets are routed by path only, and still need a token')
})

test('a slow client sending its head byte by byte is cut off, and others are served meanwhile', async (t) => {
  const s = await startInProcess(t, {http: {headersTimeoutMs: 1000, requestTimeoutMs: 2000}})
  const agent = await s.client({name: 'busy'})
  const {connect} = await import('node:net')
  const slow = connect(s.server.port, '127.0.0.1')
  slow.write('GET /.well-known/jwks.json HTTP/1.1\r\nHost: 127.0.0.1\r\n')
  const closed = new Promise<string>((resolve) => {
    let got = ''
    slow.on('data', (d) => (got += d))
    slow.on('close', () => resolve(got))
  })
  for (let i = 0; i < 5; i++) assert.ok(await fetchToken(s.issuer, agent))
  const got = await closed
  assert.ok(got === '' || /HTTP\/1\.1 408/.test(got), `slow head closed (408 or reset): ${JSON.stringify(got.slice(0, 40))}`)
})
