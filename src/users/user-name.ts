import {invalidInput} from '../errors.js'

/** Most characters in a user name. */
export const MAX_USER_NAME_LENGTH = 64

/**
 * Checks a user name: 1 to 64 characters of letters, digits and `. _ @ + -` (an e-mail address
 * fits, but a name is only a name: it is never matched against an upstream e-mail claim), not
 * starting with a punctuation character. No spaces, controls or format characters: names are
 * typed at a login form and on the command line, and shown on pages and in terminals.
 * Throws INVALID_INPUT naming the rule.
 */
export function checkUserName(name: string): string {
  if (!/^[\p{L}\p{N}][\p{L}\p{N}._@+-]{0,63}$/u.test(name)) {
    throw invalidInput(`invalid user name ${JSON.stringify(name)}: 1 to ${MAX_USER_NAME_LENGTH} letters, digits or . _ @ + -, starting with a letter or digit`)
  }
  return name.normalize('NFC')
}
