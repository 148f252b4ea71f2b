import {Args, Flags} from '@oclif/core'
import {BaseCommand, jsonFlag} from '../cli/base-command.js'
import {clientJson} from '../cli/client-view.js'
import {askConfirm, canPrompt, needsFlag} from '../cli/prompts.js'
import {terminalText} from '../cli/terminal-text.js'
import {cliActor} from '../audit/actor.js'
import {createClientAdmin} from '../clients/admin.js'
import {describeClient} from '../clients/resolve-name.js'
import {GatehouseError} from '../errors.js'

export default class RevokeClient extends BaseCommand {
  static override summary = 'Revoke an OAuth client: no new tokens, and every token it holds is refused at once.'
  static override description = 'The client is kept, marked revoked (when and by whom), so the audit trail stays answerable. A name means a client created with oauth-generate-client first; self-registered clients (marked "registered" or "metadata document" in oauth-list-clients) are matched by name only when no such client has it.'
  static override examples = [
    '<%= config.bin %> oauth-revoke-client --client-id gtc_Xb2... --yes',
    '<%= config.bin %> oauth-revoke-client ci-agent',
  ]
  static override args = {
    client: Args.string({description: 'Client id or unique name (instead of --client-id).'}),
  }
  static override flags = {
    'client-id': Flags.string({description: 'The client to revoke (its id, or its name when unique).'}),
    reason: Flags.string({description: 'Why, recorded with the revocation.'}),
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation.', default: false}),
    json: jsonFlag,
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(RevokeClient)
    if (args.client && flags['client-id'] && args.client !== flags['client-id']) {
      throw new GatehouseError('INVALID_INPUT', 'give the client once: either --client-id or the positional argument')
    }
    const ref = flags['client-id'] ?? args.client
    if (!ref) throw new GatehouseError('NEEDS_INPUT', 'which client? pass --client-id ID (or the id or name as an argument)')
    const admin = createClientAdmin({store: await this.openStore(flags), clock: this.clock})
    const client = await admin.find(ref)
    // CONTRACT.md: confirmation when interactive; never a prompt without a terminal (or with
    // --json), but a clear refusal naming the flag that stands for the answer.
    if (!flags.yes && client.revokedAt === null) {
      if (!canPrompt(flags)) throw needsFlag(`confirmation to revoke ${terminalText(describeClient(client))}`, '--yes')
      const ok = await askConfirm(`Revoke ${terminalText(describeClient(client))}? Its tokens stop working at once.`)
      if (!ok) throw new GatehouseError('CANCELLED', 'not revoked')
    }
    const actor = cliActor()
    const revoked = await admin.revoke(client.id, {by: actor.subject!, reason: flags.reason}, actor)
    if (flags.json) return this.printJson(clientJson(revoked))
    this.log(`${this.colors.green('✔')} Revoked ${terminalText(describeClient(revoked))}; its tokens are refused from now on.`)
  }
}

