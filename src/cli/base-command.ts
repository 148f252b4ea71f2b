import {Command, Errors, Flags} from '@oclif/core'
import {systemClock, type Clock} from '../clock.js'
import {resolveDataDir} from '../config/paths.js'
import {exitCodes, GatehouseError} from '../errors.js'
import {openSqliteStore} from '../store/sqlite/store.js'
import type {Store} from '../store/types.js'
import {createColors} from './colors.js'
import {terminalText} from './terminal-text.js'

/** `--json` for every command that prints data: one JSON document on stdout and nothing else. */
export const jsonFlag = Flags.boolean({description: 'Print one JSON document on stdout instead of text.', default: false})

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
  }

  protected colors = createColors()
  protected clock: Clock = systemClock
  private opened: Store | undefined

  /** The store in the data dir (`--data-dir`, GATEHOUSE_DATA_DIR, or the default), closed when the command ends. */
  protected openStore(dataDirFlag: string | undefined): Store {
    this.opened ??= openSqliteStore(resolveDataDir(dataDirFlag), {clock: this.clock})
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
