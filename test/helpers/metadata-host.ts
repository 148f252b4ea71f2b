import type {TestContext} from 'node:test'
import {selfSignedCert, serveHttps} from './tls.js'

export const METADATA_REDIRECT = 'http://localhost/callback'

/**
 * An https host (self-signed, trusted through `tls.cert`) serving client ID metadata documents,
 * good and hostile: slow, huge, redirecting, lying about their client_id, asking for a secret.
 */
export async function hostileHost(t: TestContext) {
  const tls = selfSignedCert(t)
  let base = ''
  const doc = (path: string, extra: Record<string, unknown> = {}) => JSON.stringify({client_id: `${base}${path}`, client_name: 'Claude Code', redirect_uris: [METADATA_REDIRECT], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], ...extra})
  let goodFetches = 0
  const {port} = await serveHttps(t, tls, (req, res) => {
    switch (req.url) {
      case '/good.json':
        goodFetches++
        return res.writeHead(200, {'Content-Type': 'application/json', 'Cache-Control': 'max-age=600'}).end(doc('/good.json'))
      case '/slow.json':
        return // never answers
      case '/huge.json':
        return res.writeHead(200, {'Content-Type': 'application/json'}).end(doc('/huge.json', {pad: 'x'.repeat(100_000)}))
      case '/chunked-huge.json':
        res.writeHead(200, {'Content-Type': 'application/json'})
        for (let i = 0; i < 40; i++) res.write('x'.repeat(1024))
        return res.end()
      case '/redirect.json':
        return res.writeHead(302, {Location: `${base}/good.json`}).end()
      case '/other-id.json':
        return res.writeHead(200, {'Content-Type': 'application/json'}).end(doc('/other-id.json', {client_id: `${base}/good.json`}))
      case '/secret.json':
        return res.writeHead(200, {'Content-Type': 'application/json'}).end(doc('/secret.json', {token_endpoint_auth_method: 'client_secret_basic'}))
      case '/js-redirect.json':
        return res.writeHead(200, {'Content-Type': 'application/json'}).end(doc('/js-redirect.json', {redirect_uris: ['javascript:alert(1)']}))
      case '/not-json.json':
        return res.writeHead(200, {'Content-Type': 'application/json'}).end('<html>')
      default:
        return res.writeHead(404).end()
    }
  })
  base = `https://localhost:${port}`
  return {tls, base, port, goodFetches: () => goodFetches}
}

