import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import type {RequestListener} from 'node:http'
import {createServer} from 'node:https'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'
import type {TestContext} from 'node:test'
import {tempDir} from './tmp.js'

/** A self-signed certificate for localhost and 127.0.0.1, made by openssl. */
export function selfSignedCert(t: TestContext): {certFile: string; cert: string; key: string} {
  const dir = tempDir(t, 'gatehouse-tls-')
  const certFile = join(dir, 'cert.pem')
  const keyFile = join(dir, 'key.pem')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], {stdio: 'ignore'})
  return {certFile, cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8')}
}

/** An https server on a free loopback port, stopped when the test ends. */
export async function serveHttps(t: TestContext, tls: {cert: string; key: string}, handler: RequestListener): Promise<{port: number}> {
  const server = createServer({cert: tls.cert, key: tls.key}, handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => {
    server.closeAllConnections()
    return new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return {port: (server.address() as AddressInfo).port}
}
