import {createHmac, randomBytes} from 'node:crypto'
import {hashSecret, type RandomBytes} from '../../clients/credentials.js'

/**
 * Authorization codes and refresh tokens: 256 random bits with a recognisable prefix (secret
 * scanners, logs), stored only as their SHA-256 (src/clients/credentials.ts explains why a fast
 * hash suits random secrets).
 */
export const AUTHORIZATION_CODE_PREFIX = 'gtac_'
export const REFRESH_TOKEN_PREFIX = 'gtrt_'

export const newAuthorizationCode = (random: RandomBytes = randomBytes) => AUTHORIZATION_CODE_PREFIX + random(32).toString('base64url')
export const newRefreshToken = (random: RandomBytes = randomBytes) => REFRESH_TOKEN_PREFIX + random(32).toString('base64url')
export const newGrantId = (random: RandomBytes = randomBytes) => 'gtg_' + random(16).toString('base64url')

export const opaqueTokenHash = hashSecret

/**
 * The refresh token that rotation gives for `presented`: HMAC-SHA256 keyed with the presented
 * token over a server-side salt (base64url, stored with the rotated token). Only the hash of the
 * result is stored, yet a retry of the same presented token can be answered with the same
 * successor (src/oauth/grants/refresh-rotation.ts), and nobody can compute it without both the
 * presented token (held by the client) and the salt (held by the server).
 */
export const successorRefreshToken = (presented: string, salt: string) =>
  REFRESH_TOKEN_PREFIX + createHmac('sha256', presented).update(salt, 'utf8').digest('base64url')
