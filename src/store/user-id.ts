import {randomBytes} from 'node:crypto'

/**
 * A new user id: `usr_` and 128 random bits in hex, the same shape the migrations give the
 * owner. Stable for the life of the user (it is the `sub` of their access tokens), never reused,
 * never derived from a name or an e-mail address.
 */
export const newUserId = (random: (n: number) => Buffer = randomBytes): string => `usr_${random(16).toString('hex')}`

/** Whether a string has the shape of a user id. */
export const isUserId = (s: string): boolean => /^usr_[0-9a-f]{32}$/.test(s)
