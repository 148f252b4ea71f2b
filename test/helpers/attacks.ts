/**
 * Shared set-up for the attack catalogue (test/security/): one daemon per file, generous failure
 * budgets (so one attack's failures do not rate-limit the next), the usual victim and attacker
 * clients, raw requests and JWT forgery.
 */
import assert from 'node:assert/strict'
import {after, before, type TestContext} from 'node:test'
import {SignJWT, type CryptoKey} from 'jose'
import {register} from './interactive.js'
import {startInProcess} from './server.js'
import type {ServerOptions} from '../../src/server.js'

export const WEB = 'https://app.example/cb'
export const NATIVE = 'http://localhost/callback'
export const ATTACKER_URI = 'https://attacker.example/cb'

/** Failure budgets large enough that no attack in a file is answered 429 instead of its own error. */
export const generousLimits: Partial<ServerOptions> = {
  authFailures: {perClient: {burst: 1e6, perMinute: 1e6}, perAddress: {burst: 1e6, perMinute: 1e6}},
}

/**
 * Runs `setup` once before the file's tests and cleans up after them; returns a getter. For
 * attacks that do not move the clock or change shared state that others rely on.
 */
export function perFile<T>(setup: (t: TestContext) => Promise<T>): () => T {
  let value: T | undefined
  const cleanups: Array<() => unknown> = []
  const ctx = {after: (fn: () => unknown) => void cleanups.push(fn)} as unknown as TestContext
  before(async () => {
    value = await setup(ctx)
  })
  after(async () => {
    for (const fn of cleanups.reverse()) await fn()
  })
  return () => value!
}

/**
 * The daemon with interactive authorization (auto-approve unless told otherwise), a victim
 * public client registered for WEB and NATIVE, and an attacker's client for ATTACKER_URI.
 */
export async function interactiveServer(t: TestContext, options: Partial<ServerOptions> = {}) {
  const {interactive, ...rest} = options
  const s = await startInProcess(t, {
    ...generousLimits,
    interactive: {autoApprove: true, registrationLimit: {burst: 1e6, perMinute: 1e6}, ...interactive},
    ...rest,
  })
  const victim = await register(s.issuer, {client_name: 'Victim App', redirect_uris: [WEB, NATIVE], token_endpoint_auth_method: 'none'})
  const attacker = await register(s.issuer, {client_name: 'Attacker App', redirect_uris: [ATTACKER_URI], token_endpoint_auth_method: 'none'})
  assert.equal(victim.status, 201)
  assert.equal(attacker.status, 201)
  return {s, victim: String(victim.body.client_id), attacker: String(attacker.body.client_id)}
}

/** The daemon answers a cheap request: the attack before did not take it down. */
export async function assertStillServes(issuer: string): Promise<void> {
  const res = await fetch(`${issuer}/.well-known/jwks.json`)
  assert.equal(res.status, 200, 'the daemon still serves')
  assert.ok(((await res.json()) as {keys: unknown[]}).keys.length > 0)
}

/** A POST with the given body and headers (form-encoded unless a Content-Type is given); the JSON answer. */
export async function postForm(url: string, body: string | Buffer, headers: Record<string, string> = {}) {
  const res = await fetch(url, {method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded', ...headers}, body})
  const text = await res.text()
  return {status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, string>) : {}}
}

/** A JWT with any header: unsigned (`alg: none`) without a key, else signed with it. */
export async function forgeJwt(header: Record<string, unknown>, payload: Record<string, unknown>, key?: CryptoKey | import('node:crypto').KeyObject): Promise<string> {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
  if (!key) return `${enc(header)}.${enc(payload)}.`
  return new SignJWT(payload).setProtectedHeader(header as {alg: string}).sign(key)
}

/** GET /oauth/info with a bearer token: the status and the challenge. */
export async function infoWith(issuer: string, token: string) {
  const res = await fetch(`${issuer}/oauth/info`, {headers: {Authorization: `Bearer ${token}`}})
  const body = (await res.json()) as Record<string, string>
  return {status: res.status, challenge: res.headers.get('www-authenticate') ?? '', body}
}
