import {randomBytes} from 'node:crypto'
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
