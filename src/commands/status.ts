import {BaseCommand, jsonFlag} from '../cli/base-command.js'
import {resolveDataDir} from '../config/paths.js'
import {daemonStatus} from '../daemon/daemon-control.js'
import {exitCodes} from '../errors.js'
import {renderStatus} from '../cli/status-view.js'

export default class Status extends BaseCommand {
  static override summary = 'Whether a daemon runs on this data dir, and what it and each client are doing.'
  static override description = `Read from the running daemon over its owner-only Unix socket (<data dir>/run/status.sock, mode 0600 in a 0700 directory).
Exit status: 0 running, its store reachable; ${exitCodes.DATABASE_UNREACHABLE} running, but its store (PostgreSQL) does not answer it (the report says since when and the last error); ${exitCodes.NOT_RUNNING} not running (no record, or a stale one after a crash); ${exitCodes.RUNTIME_RECORD} the runtime record is not ours or unreadable.`
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --json', '<%= config.bin %> status --data-dir ./dev-data']
  static override flags = {json: jsonFlag}

  async run(): Promise<void> {
    const {flags} = await this.parse(Status)
    const status = await daemonStatus(resolveDataDir(flags['data-dir']))
    if (flags.json) this.printJson(status)
    else for (const line of renderStatus(status, this.colors)) this.log(line)
    if (!status.running) this.exit(exitCodes.NOT_RUNNING)
    // The daemon runs but cannot reach its store: it refuses most requests (429 + Retry-After),
    // which a script or a service monitor must be able to tell from "all is well".
    if ((status.store as {reachable?: unknown} | undefined)?.reachable === false) this.exit(exitCodes.DATABASE_UNREACHABLE)
  }
}
