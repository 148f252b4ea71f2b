import {randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions} from 'node:crypto'
import {invalidInput} from '../errors.js'

/**
 * The owner's password: chosen by a person, so unlike client secrets it gets a slow, salted hash
 * (NIST SP 800-63B §5.1.1.2). scrypt with N=2^17, r=8, p=1 (OWASP Password Storage Cheat Sheet),
 * parameters kept in the stored string so they can be raised later.
 * Format: `scrypt$N$r$p$salt$hash` (base64url).
 */
export const DEFAULT_SCRYPT = {N: 2 ** 17, r: 8, p: 1}
const KEY_LENGTH = 32
export const MIN_PASSWORD_LENGTH = 10
export const MAX_PASSWORD_LENGTH = 1024

const scrypt = (password: string, salt: Buffer, {N, r, p}: {N: number; r: number; p: number}) =>
  new Promise<Buffer>((resolve, reject) => {
    const options: ScryptOptions = {N, r, p, maxmem: 256 * N * r + 1024 * 1024}
    scryptCb(password.normalize('NFC'), salt, KEY_LENGTH, options, (error, key) => (error ? reject(error) : resolve(key)))
  })

export function checkPasswordPolicy(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) throw invalidInput(`the password must have at least ${MIN_PASSWORD_LENGTH} characters`)
  if (password.length > MAX_PASSWORD_LENGTH) throw invalidInput(`the password must have at most ${MAX_PASSWORD_LENGTH} characters`)
}

export async function hashPassword(password: string, {params = DEFAULT_SCRYPT, random = randomBytes}: {params?: typeof DEFAULT_SCRYPT; random?: (n: number) => Buffer} = {}): Promise<string> {
  checkPasswordPolicy(password)
  const salt = random(16)
  const key = await scrypt(password, salt, params)
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64url'), key.toString('base64url')].join('$')
}

/** Constant-time check of a password against a stored hash; false for a malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, N, r, p, salt, hash] = stored.split('$')
  if (kind !== 'scrypt' || !salt || !hash || password.length > MAX_PASSWORD_LENGTH) return false
  const params = {N: Number(N), r: Number(r), p: Number(p)}
  if (!Number.isInteger(params.N) || !Number.isInteger(params.r) || !Number.isInteger(params.p)) return false
  const expected = Buffer.from(hash, 'base64url')
  const key = await scrypt(password, Buffer.from(salt, 'base64url'), params)
  return key.length === expected.length && timingSafeEqual(key, expected)
}
