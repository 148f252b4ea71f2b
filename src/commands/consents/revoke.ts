import {Args, Flags} from '@oclif/core'
import {cliActor} from '../../audit/actor.js'
import {BaseCommand, jsonFlag} from '../../cli/base-command.js'
import {createConsentAdmin} from '../../owner/consents.js'
import {terminalText} from '../../cli/terminal-text.js'

export default class ConsentsRevoke extends BaseCommand {
  static override summary = "Revoke the owner's consent for a client, and every grant made under it."
  static override description = 'Its refresh tokens stop working at once; a running daemon refuses its access tokens from the next request. The client asks for consent again next time.'
  static override examples = ['<%= config.bin %> consents revoke gtc_Xb2...', '<%= config.bin %> consents revoke https://claude.ai/oauth/mcp-oauth-client-metadata']
  static override args = {client: Args.string({description: 'Client id (or a name only one client with consents has).', required: true})}
  static override flags = {user: Flags.string({description: 'Only this person\'s consent (user name or id); default: everyone\'s.'}), json: jsonFlag}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(ConsentsRevoke)
    const r = await createConsentAdmin({store: await this.openStore(flags), clock: this.clock}).revoke(args.client, {user: flags.user}, cliActor())
    if (flags.json) return this.printJson({client_id: r.clientId, client_name: r.clientName, consents_revoked: r.consents, grants_revoked: r.grants})
    this.log(`${this.colors.green('✔')} Revoked ${r.consents} consent(s) and ${r.grants} grant(s) of ${terminalText(r.clientName)} (${terminalText(r.clientId)}).`)
  }
}
