/**
 * The owner-only channel to a running daemon: HTTP over a Unix socket at
 * <dataDir>/run/status.sock. Only the owner can reach it: the `run` directory is created 0700
 * and checked to be ours before the socket is bound inside it (so there is no moment in which
 * another local user could connect), and the socket itself is chmod 0600. No OAuth token opens
 * it: it is not on the TCP port at all, so a client's bearer token has nothing to present it to.
 *
 * One route: GET /status answers the status report (status-report.ts) as JSON.
 */
import {createServer, request, type Server} from 'node:http'
import {chmod, lstat, mkdir, rm} from 'node:fs/promises'
import {join} from 'node:path'
import {GatehouseError} from '../errors.js'

export const statusSocketPath = (dataDir: string) => join(dataDir, 'run', 'status.sock')

/** Longest Unix socket path (sun_path) that Linux and macOS both accept, in bytes. */
const MAX_SOCKET_PATH = 103

export interface StatusSocket {
  path: string
  close(): Promise<void>
}

/**
 * Listens on the status socket; `report` is asked for the body of each GET /status. Throws
 * GatehouseError CONFIG when the path is too long for a Unix socket or `run` is not ours. The
 * caller must hold the data dir's lock: an existing socket file is a crashed daemon's and is removed.
 */
export async function openStatusSocket(dataDir: string, report: () => Promise<unknown>): Promise<StatusSocket> {
  const path = statusSocketPath(dataDir)
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) throw new GatehouseError('CONFIG', `the status socket path ${path} is too long for a Unix socket`)
  const dir = join(dataDir, 'run')
  await mkdir(dir, {recursive: true, mode: 0o700})
  const info = await lstat(dir)
  if (!info.isDirectory() || (typeof process.getuid === 'function' && info.uid !== process.getuid())) {
    throw new GatehouseError('CONFIG', `${dir} is not a directory of yours; the status socket is not opened`)
  }
  if ((info.mode & 0o077) !== 0) await chmod(dir, 0o700)
  await rm(path, {force: true})
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/status') {
      res.writeHead(404, {'content-type': 'application/json'}).end('{"error":"not_found"}')
      return
    }
    report().then(
      (body) => res.writeHead(200, {'content-type': 'application/json', 'cache-control': 'no-store'}).end(JSON.stringify(body)),
      (error: Error) => res.writeHead(500, {'content-type': 'application/json'}).end(JSON.stringify({error: error.message})),
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(path, () => resolve())
  })
  await chmod(path, 0o600)
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => void rm(path, {force: true}).then(() => resolve(), () => resolve()))
      }),
  }
}

/**
 * Asks a daemon for its status report over its socket. Resolves null when nothing listens there
 * (no socket, or connection refused: the daemon is gone); rejects on other failures. Bounded by
 * `timeoutMs`.
 */
export function fetchStatus(path: string, {timeoutMs = 5000}: {timeoutMs?: number} = {}): Promise<Record<string, unknown> | null> {
  return new Promise((resolve, reject) => {
    const req = request({socketPath: path, path: '/status', method: 'GET', timeout: timeoutMs}, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d: string) => (body += d))
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`the daemon answered ${res.statusCode}: ${body.slice(0, 200)}`))
        try {
          resolve(JSON.parse(body) as Record<string, unknown>)
        } catch {
          reject(new Error('the daemon answered something that is not JSON'))
        }
      })
    })
    req.on('timeout', () => req.destroy(new Error(`no answer on ${path} within ${timeoutMs} ms`)))
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' || error.code === 'ECONNREFUSED' ? resolve(null) : reject(error)))
    req.end()
  })
}
