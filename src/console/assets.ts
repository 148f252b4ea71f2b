import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import type {Handler} from '../http/router.js'

/**
 * The console's static files, from the package itself (console-assets/, listed in package.json
 * "files"): nothing comes from a CDN. The same relative path works from src/console (tsx) and
 * dist/console (the built package). Read once at start; served with a strong ETag.
 */
export const ASSETS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'console-assets')

const TYPES: Record<string, string> = {
  'console.css': 'text/css; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
}

/** One handler per asset, keyed by file name. Throws at start if a file is missing from the package. */
export function assetHandlers(dir = ASSETS_DIR): Map<string, Handler> {
  const out = new Map<string, Handler>()
  for (const [file, type] of Object.entries(TYPES)) {
    const body = readFileSync(join(dir, file))
    const etag = `"${hash(body)}"`
    out.set(file, (req, res) => {
      const headers = {'Content-Type': type, 'Cache-Control': 'no-cache', ETag: etag, 'Cross-Origin-Resource-Policy': 'same-origin'}
      if (req.headers['if-none-match'] === etag) return void res.writeHead(304, headers).end()
      res.writeHead(200, {...headers, 'Content-Length': body.length}).end(req.method === 'HEAD' ? undefined : body)
    })
  }
  return out
}

const hash = (b: Buffer) => createHash('sha256').update(b).digest('base64url').slice(0, 16)
