import {createHash, createHmac, randomBytes, timingSafeEqual} from 'node:crypto'
import type {RandomBytes} from '../clients/credentials.js'

/**
 * A device token: what a browser is given when the owner logs in with it, so that later logins
 * from that browser are budgeted apart from an attacker's guesses (OWASP, "Slow Down Online
 * Guessing Attacks with Device Cookies"). Format `id.mac`, both base64url: a 128-bit random id
 * and its HMAC-SHA-256 under a key derived from the stored password hash. Nothing is kept on
 * the server, a restart forgets nothing, and setting a new password retires every device token.
 */
const keyFor = (passwordHash: string) => createHash('sha256').update('gatehouse owner device v1\u0000').update(passwordHash).digest()

const mac = (passwordHash: string, id: string) => createHmac('sha256', keyFor(passwordHash)).update(id).digest('base64url')

/** A new device token for the owner whose password hash is `passwordHash`. */
export function newDeviceToken(passwordHash: string, random: RandomBytes = randomBytes): string {
  const id = random(16).toString('base64url')
  return `${id}.${mac(passwordHash, id)}`
}

/** The token's id when it was made under this password hash (checked in constant time); else undefined. */
export function deviceTokenId(passwordHash: string, token: string | undefined): string | undefined {
  if (!token || token.length > 100) return undefined
  const dot = token.indexOf('.')
  if (dot <= 0) return undefined
  const id = token.slice(0, dot)
  const given = Buffer.from(token.slice(dot + 1))
  const expected = Buffer.from(mac(passwordHash, id))
  return given.length === expected.length && timingSafeEqual(given, expected) ? id : undefined
}
