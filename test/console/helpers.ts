import {mkdirSync} from 'node:fs'
import {join} from 'node:path'
import type {Page} from 'playwright-core'
import {repoRoot} from '../helpers/cli.js'
import {httpExchange} from '../helpers/consent-browser.js'

/** Where the console tests keep their screenshots (gitignored; a test artefact, not committed). */
export const ARTIFACTS = join(repoRoot, 'test-artifacts', 'console')

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, {recursive: true})
  const path = join(ARTIFACTS, `${name}.png`)
  await page.screenshot({path, fullPage: true})
  return path
}

/** A cookie-keeping HTTP stand-in for a browser on the console (no JavaScript). */
export function consoleHttp(issuer: string, base = '/console') {
  const jar = new Map<string, string>()
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
  const keep = (headers: Record<string, string | string[] | undefined>) => {
    const set = headers['set-cookie']
    for (const c of Array.isArray(set) ? set : set ? [set] : []) {
      const [pair] = c.split(';')
      const eq = pair!.indexOf('=')
      jar.set(pair!.slice(0, eq), pair!.slice(eq + 1))
    }
  }
  const csrfOf = (html: string) => /name="csrf_token" value="([^"]+)"/.exec(html)?.[1]
  const origin = new URL(issuer).origin
  const api = {
    jar,
    csrfOf,
    async get(path: string, headers: Record<string, string> = {}) {
      const r = await httpExchange(`${issuer}${base}${path}`, {headers: {...(jar.size ? {Cookie: cookie()} : {}), ...headers}})
      keep(r.headers)
      return r
    },
    async post(path: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
      const r = await httpExchange(`${issuer}${base}${path}`, {
        method: 'POST',
        headers: {'Content-Type': 'application/x-www-form-urlencoded', Origin: origin, ...(jar.size ? {Cookie: cookie()} : {}), ...headers},
        body: new URLSearchParams(fields).toString(),
      })
      keep(r.headers)
      return r
    },
    /** Logs in through the login form; returns the signed-in pages' CSRF token. */
    async logIn(password: string): Promise<string> {
      const form = await api.get('/login')
      const r = await api.post('/login', {csrf_token: csrfOf(form.text) ?? '', password})
      if (r.status !== 303) throw new Error(`login failed: ${r.status} ${r.text}`)
      const page = await api.get('/clients')
      return csrfOf(page.text)!
    },
  }
  return api
}
