import {Flags} from '@oclif/core'
import {setTimeout as sleep} from 'node:timers/promises'
import {auditJson, auditLine, auditTable} from '../cli/audit-view.js'
import {BaseCommand, jsonFlag} from '../cli/base-command.js'
import {parseSince} from '../cli/time.js'
import {createUserAdmin} from '../users/user-admin.js'

export default class Audit extends BaseCommand {
  static override summary = 'Show the audit trail: MCP requests, tokens issued, refused and revoked, admin actions.'
  static override description = 'With --follow, keeps printing new events (with --json, one JSON object per line) until interrupted.'
  static override examples = [
    '<%= config.bin %> audit --since 1h',
    '<%= config.bin %> audit --client-id gtc_... --json',
    '<%= config.bin %> audit --follow',
    '<%= config.bin %> audit --user alice --since 1d',
  ]
  static override flags = {
    'client-id': Flags.string({description: 'Only this client\'s events.'}),
    user: Flags.string({description: 'Only events of this person (user name or id): requests made with their tokens.'}),
    since: Flags.string({description: 'Only events since this ISO 8601 time or age (30m, 2h, 7d).'}),
    limit: Flags.integer({description: 'At most this many events (the oldest first).', default: 1000, min: 1}),
    follow: Flags.boolean({char: 'f', description: 'Keep printing new events as they are written.', default: false}),
    json: jsonFlag,
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Audit)
    const store = await this.openStore(flags)
    const filter = {
      clientId: flags['client-id'],
      subject: flags.user === undefined ? undefined : (await createUserAdmin({store, clock: this.clock}).find(flags.user)).id,
      since: flags.since === undefined ? undefined : parseSince(flags.since, this.clock.now()),
    }
    const rows = await store.audit.query({...filter, limit: flags.limit})
    if (!flags.follow) {
      if (flags.json) return this.printJson(rows.map(auditJson))
      if (rows.length === 0) return this.log('No audit events match.')
      return this.log(auditTable(rows, this.colors))
    }
    const print = (r: (typeof rows)[number]) => this.log(flags.json ? JSON.stringify(auditJson(r)) : auditLine(r, this.colors))
    rows.forEach(print)
    let last = rows.at(-1)?.id ?? 0
    let stop = false
    process.once('SIGINT', () => (stop = true))
    process.once('SIGTERM', () => (stop = true))
    while (!stop) {
      await sleep(300)
      for (const r of await store.audit.query({...filter, afterId: last, limit: 1000})) {
        print(r)
        last = r.id
      }
    }
  }
}
