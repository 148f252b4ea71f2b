import {Flags} from '@oclif/core'
import {BaseCommand, jsonFlag} from '../../cli/base-command.js'
import {askPassword, canPrompt, needsFlag} from '../../cli/prompts.js'
import {readStdin} from '../../cli/password-input.js'
import {GatehouseError} from '../../errors.js'
import {createOwnerAdmin} from '../../owner/owner-admin.js'
import {checkPasswordPolicy} from '../../owner/password.js'

export default class OwnerSetPassword extends BaseCommand {
  static override summary = "Set the owner's password, asked for on the consent page when an interactive client connects."
  static override description = 'Stored as a slow salted hash (scrypt). A running daemon uses the new password at once.'
  static override examples = ['<%= config.bin %> owner set-password', "printf '%s' \"$PASSWORD\" | <%= config.bin %> owner set-password --password-stdin"]
  static override flags = {
    'password-stdin': Flags.boolean({description: 'Read the password from standard input (for scripts; one trailing newline is dropped).', default: false}),
    json: jsonFlag,
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(OwnerSetPassword)
    let password: string
    if (flags['password-stdin']) {
      password = (await readStdin()).replace(/\r?\n$/, '')
    } else if (canPrompt(flags)) {
      password = await askPassword('New owner password', (v) => {
        try {
          checkPasswordPolicy(v)
          return true
        } catch (error) {
          return (error as Error).message
        }
      })
      if ((await askPassword('Repeat it')) !== password) throw new GatehouseError('INVALID_INPUT', 'the passwords differ')
    } else {
      throw needsFlag('the password', '--password-stdin')
    }
    const {replaced} = await createOwnerAdmin({store: await this.openStore(flags), clock: this.clock}).setPassword(password)
    if (flags.json) return this.printJson({owner: 'owner', password_set: true, replaced})
    this.log(`${this.colors.green('✔')} Owner password ${replaced ? 'changed' : 'set'}.`)
  }
}
