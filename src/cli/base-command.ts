import {Command, Errors, Flags} from '@oclif/core'
import {systemClock, type Clock} from '../clock.js'
import {resolveDataDir} from '../config/paths.js'
import {readRuntimeRecord} from '../daemon/runtime-record.js'
import {exitCodes, GatehouseError} from '../errors.js'
import {openStore, type SslMode, type StoreConfig} from '../store/open-store.js'
import type {Store} from '../store/types.js'
import {createColors} from './colors.js'
import {terminalText} from './terminal-text.js'

/** `--json` for every command that prints data: one JSON document on stdout and nothing else. */
export const jsonFlag = Flags.boolean({description: 'Print one JSON document on stdout instead of text.', default: false})

/** The global flags that say which store to open. */
export interface StoreFlags {
  'data-dir'?: string | undefined
  'database-url'?: string | undefined
  'database-ssl-mode'?: string | undefined
  'database-ca-file'?: string | undefined
  'database-pool-size'?: number | undefined
  'key-encryption-key-file'?: string | undefined
}

/** The store configuration the global flags describe (the daemon's and every command's). */
export function storeConfig(flags: StoreFlags, clock: Clock): StoreConfig {
  return {
    dataDir: resolveDataDir(flags['data-dir']),
    databaseUrl: flags['database-url'] || undefined,
    postgres: {sslMode: flags['database-ssl-mode'] as SslMode | undefined, caFile: flags['database-ca-file'], poolMax: flags['database-pool-size']},
    // Checked against the database as it opens: a wrong key is refused by every command alike.
    keyEncryptionKeyFile: flags['key-encryption-key-file'] || undefined,
    clock,
  }
}

/**
 * A command about to open the data dir's SQLite file while the daemon running on that data dir
 * keeps its data in PostgreSQL (its runtime record says so) would read or write a store nobody
 * serves: a client made there gets invalid_client from the daemon. Refused with CONFIG (exit 11),
 * naming the missing setting; nothing is opened or written. A missing, stale or unreadable record
 * is no reason to refuse (`gatehouse status` reports those).
 */
async function refuseSqliteBesidePostgres(dataDir: string): Promise<void> {
  const found = await readRuntimeRecord(dataDir).catch(() => undefined)
  if (found?.state !== 'running' || !found.record.store?.startsWith('postgresql')) return
  throw new GatehouseError(
    'CONFIG',
    `the daemon running on ${dataDir} (pid ${found.record.pid}) keeps its data in ${found.record.store}, but this command was given no --database-url and would use the SQLite file in the data dir: pass --database-url and --key-encryption-key-file (or GATEHOUSE_DATABASE_URL and GATEHOUSE_KEY_ENCRYPTION_KEY_FILE) as the daemon has them; nothing was changed`,
  )
}

/**
 * What every command shares: `--data-dir`, the store, colours, and one error mapping. Errors
 * reach the user as one line on stderr with a stable exit status (src/errors.ts); a stack trace
 * only when DEBUG is set.
 */
export abstract class BaseCommand extends Command {
  static override baseFlags = {
    'data-dir': Flags.string({
      description: 'Where Gatehouse keeps its database and keys (default: the per-user data folder, e.g. ~/.local/share/gatehouse).',
      env: 'GATEHOUSE_DATA_DIR',
      helpGroup: 'GLOBAL',
    }),
    'database-url': Flags.string({
      description: 'postgres://USER:PASS@HOST:PORT/DB: keep everything in this PostgreSQL database, shared by several daemons, instead of SQLite in the data dir.',
      env: 'GATEHOUSE_DATABASE_URL',
      helpGroup: 'GLOBAL',
    }),
    'database-ssl-mode': Flags.string({
      description: 'TLS to PostgreSQL, as libpq: disable, require, verify-ca, verify-full (default: the URL\'s sslmode, else disable; prefer and allow are refused: they would fall back to plain text silently).',
      env: 'GATEHOUSE_DATABASE_SSL_MODE',
      options: ['disable', 'require', 'verify-ca', 'verify-full'],
      helpGroup: 'GLOBAL',
    }),
    'database-ca-file': Flags.string({
      description: 'PEM file of the CA that signs the PostgreSQL server\'s certificate (managed databases).',
      env: 'GATEHOUSE_DATABASE_CA_FILE',
      helpGroup: 'GLOBAL',
    }),
    'database-pool-size': Flags.integer({
      description: 'Most PostgreSQL connections this process holds.',
      env: 'GATEHOUSE_DATABASE_POOL_SIZE',
      min: 1,
      max: 1000,
      helpGroup: 'GLOBAL',
    }),
    'key-encryption-key-file': Flags.string({
      description: 'File with 32 random bytes, base64: the key under which private signing keys are sealed in PostgreSQL. Required with --database-url by the daemon and keys rotate; every node gets the same file. Any command given it checks it against the database first (a wrong key: exit 14, nothing written).',
      env: 'GATEHOUSE_KEY_ENCRYPTION_KEY_FILE',
      helpGroup: 'GLOBAL',
    }),
  }

  protected colors = createColors()
  protected clock: Clock = systemClock
  private opened: Store | undefined

  /**
   * The store the global flags name (src/store/open-store.ts): PostgreSQL with --database-url,
   * else SQLite in the data dir (`--data-dir`, GATEHOUSE_DATA_DIR, or the default). Opened once,
   * closed when the command ends.
   */
  protected async openStore(flags: StoreFlags): Promise<Store> {
    const config = storeConfig(flags, this.clock)
    if (this.opened === undefined && config.databaseUrl === undefined) await refuseSqliteBesidePostgres(config.dataDir)
    this.opened ??= await openStore({...config, watch: false})
    return this.opened
  }

  /** One JSON document on stdout: indented for a terminal, compact for pipes (large lists print fast). */
  protected printJson(value: unknown): void {
    process.stdout.write(JSON.stringify(value, null, process.stdout.isTTY ? 2 : undefined) + '\n')
  }

  /** A line for people, on stderr, so that stdout stays clean for data. */
  protected notice(message: string): void {
    process.stderr.write(`${this.colors.yellow('notice:')} ${terminalText(message)}\n`)
  }

  protected override async finally(error: Error | undefined): Promise<unknown> {
    await this.opened?.close()
    return super.finally(error)
  }

  protected override async catch(error: Error & {exitCode?: number}): Promise<unknown> {
    if (process.env.DEBUG) process.stderr.write(`${error.stack}\n`)
    if (error instanceof GatehouseError) return this.fail(error.message, exitCodes[error.code])
    // oclif's own errors (unknown flag, missing argument, this.exit) keep their status and text.
    if (error instanceof Errors.CLIError || (error as {oclif?: unknown}).oclif) throw error
    if ((error as {name?: string}).name === 'ExitPromptError') return this.fail('cancelled', exitCodes.CANCELLED)
    return this.fail(`unexpected error: ${error.message.split('\n')[0]} (set DEBUG=1 for details)`, 1)
  }

  /** One line on stderr, then the exit status: no wrapping, no stack; what the message quotes is escaped. */
  private fail(message: string, exit: number): never {
    process.stderr.write(`${this.colors.red('Error:')} ${terminalText(message.replace(/\s*\n\s*/g, ' '))}\n`)
    return this.exit(exit)
  }
}
