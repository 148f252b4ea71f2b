import {BaseCommand} from '../cli/base-command.js'
import {resolveDataDir} from '../config/paths.js'
import {stopDaemon} from '../daemon/daemon-control.js'
import {exitCodes} from '../errors.js'

export default class Stop extends BaseCommand {
  static override summary = 'Stop the daemon running on this data dir (SIGTERM to its recorded pid, after checking it is that daemon).'
  static override description = `Works for a daemon started in the background, or under npx (which may not pass on a signal sent to its own pid).
Exit status: 0 stopped; ${exitCodes.NOT_RUNNING} no daemon runs there (a stale record's pid is never signalled); ${exitCodes.RUNTIME_RECORD} the runtime record is not ours; ${exitCodes.CONFLICT} it did not stop in time.`
  static override examples = ['<%= config.bin %> stop', '<%= config.bin %> stop --data-dir ./dev-data']
  static override flags = {}

  async run(): Promise<void> {
    const {flags} = await this.parse(Stop)
    const record = await stopDaemon(resolveDataDir(flags['data-dir']))
    this.log(`stopped the daemon (pid ${record.pid}, ${record.url})`)
  }
}
