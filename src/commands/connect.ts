import {Args, Flags} from '@oclif/core'
import {BaseCommand, jsonFlag} from '../cli/base-command.js'
import {clientSnippets, renderSnippets, SNIPPET_TARGETS, type SnippetTarget} from '../cli/client-settings.js'
import {resolveDataDir} from '../config/paths.js'
import {issuerForPrinting} from '../daemon/printed-issuer.js'
import {GatehouseError} from '../errors.js'
import {createClientAdmin} from '../clients/admin.js'

export default class Connect extends BaseCommand {
  static override summary = 'Print ready-to-paste settings for an MCP client (never a secret).'
  static override description = `Without --client-id: the clients that register themselves and ask you in the browser (Claude Code, Claude Desktop via mcp-remote, Claude.ai/ChatGPT connectors, VS Code, Cursor, MCP Inspector).
With --client-id: the snippets that fit that client's grant types; the secret is read from $GATEHOUSE_CLIENT_SECRET.
URLs are those of the daemon running on this data dir (else http://127.0.0.1:8080, said so), or --issuer.`
  static override examples = ['<%= config.bin %> connect', '<%= config.bin %> connect claude-code', '<%= config.bin %> connect sdk-ts --client-id gh_...', '<%= config.bin %> connect connectors --issuer https://mcp.example.com']
  static override args = {client: Args.string({description: `Only this client: ${SNIPPET_TARGETS.join(', ')}.`, options: [...SNIPPET_TARGETS]})}
  static override flags = {
    'client-id': Flags.string({description: 'A client created with oauth-generate-client (its id or unique name).'}),
    issuer: Flags.string({description: 'The server\'s public base URL (default: the running daemon\'s).', env: 'GATEHOUSE_ISSUER'}),
    json: jsonFlag,
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Connect)
    const dataDir = resolveDataDir(flags['data-dir'])
    const {issuer, notice} = await issuerForPrinting(flags.issuer, dataDir)
    let client
    if (flags['client-id']) {
      client = await createClientAdmin({store: await this.openStore(flags), clock: this.clock}).find(flags['client-id'])
    }
    let snippets = clientSnippets({issuer, client})
    if (args.client) snippets = snippets.filter((s) => s.target === (args.client as SnippetTarget))
    if (snippets.length === 0) throw new GatehouseError('INVALID_INPUT', `no ${args.client} settings ${client ? `for a client with grant types ${client.grantTypes.join(', ')}` : 'without --client-id'}`)
    if (flags.json) return this.printJson({issuer, mcp_url: `${issuer}/mcp`, snippets: snippets.map((s) => ({client: s.target, title: s.title, text: s.lines.join('\n')}))})
    if (notice) this.notice(notice)
    for (const line of renderSnippets(snippets, this.colors).slice(1)) this.log(line)
  }
}
