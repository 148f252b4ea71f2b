import {Flags} from '@oclif/core'
import {cliActor} from '../../audit/actor.js'
import {BaseCommand, jsonFlag} from '../../cli/base-command.js'
import {newPassword} from '../../cli/password-input.js'
import {createOwnerAdmin} from '../../owner/owner-admin.js'

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
    const password = (await newPassword(flags, 'New owner password'))!
    const {replaced} = await createOwnerAdmin({store: await this.openStore(flags), clock: this.clock}).setPassword(password, cliActor())
    if (flags.json) return this.printJson({owner: 'owner', password_set: true, replaced})
    this.log(`${this.colors.green('✔')} Owner password ${replaced ? 'changed' : 'set'}.`)
  }
}
