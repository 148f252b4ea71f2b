import {askPassword, canPrompt, needsFlag} from './prompts.js'
import {GatehouseError} from '../errors.js'
import {checkPasswordPolicy} from '../owner/password.js'

/** All of standard input, as text. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * A new password: from standard input with `--password-stdin` (one trailing newline dropped),
 * else asked twice when a person can answer, else NEEDS_INPUT naming the flag. `optional`: with
 * no flag and no terminal, undefined (a user who signs in only upstream).
 */
export async function newPassword(flags: {json?: boolean; 'password-stdin'?: boolean}, label: string, {optional = false} = {}): Promise<string | undefined> {
  if (flags['password-stdin']) return (await readStdin()).replace(/\r?\n$/, '')
  if (optional) return undefined
  if (!canPrompt(flags)) throw needsFlag('the password', '--password-stdin')
  const password = await askPassword(label, (v) => {
    try {
      checkPasswordPolicy(v)
      return true
    } catch (error) {
      return (error as Error).message
    }
  })
  if ((await askPassword('Repeat it')) !== password) throw new GatehouseError('INVALID_INPUT', 'the passwords differ')
  return password
}
