import {GatehouseError} from '../errors.js'

/**
 * Prompts only where a person can answer: stdin and stdout are terminals, and neither --json nor
 * --yes was given. Everywhere else a missing value is an error naming the flag that supplies it.
 */
export function canPrompt(flags: {json?: boolean; yes?: boolean}): boolean {
  return Boolean(process.stdin.isTTY && process.stdout.isTTY && !flags.json && !flags.yes && !process.env.CI)
}

export function needsFlag(what: string, flag: string): GatehouseError {
  return new GatehouseError('NEEDS_INPUT', `${what} is required: pass ${flag} (no prompt without an interactive terminal)`)
}

type InquirerModule = typeof import('inquirer')

async function inquirer(): Promise<InquirerModule['default']> {
  // Loaded on demand: most runs (scripts, --json, the daemon) never prompt.
  return (await import('inquirer')).default
}

export async function askText(message: string, options: {default?: string; validate?: (v: string) => true | string} = {}): Promise<string> {
  const {value} = await (await inquirer()).prompt<{value: string}>([
    {type: 'input', name: 'value', message, default: options.default, validate: options.validate},
  ])
  return value
}

export async function askConfirm(message: string, defaultValue = false): Promise<boolean> {
  const {value} = await (await inquirer()).prompt<{value: boolean}>([{type: 'confirm', name: 'value', message, default: defaultValue}])
  return value
}

export async function askChoices(message: string, choices: {name: string; value: string; checked?: boolean}[]): Promise<string[]> {
  const {value} = await (await inquirer()).prompt<{value: string[]}>([{type: 'checkbox', name: 'value', message, choices}])
  return value
}

/** A hidden prompt (inquirer's password prompt, masked). */
export async function askPassword(message: string, validate?: (v: string) => true | string): Promise<string> {
  const {value} = await (await inquirer()).prompt<{value: string}>([{type: 'password', name: 'value', message, mask: '*', validate}])
  return value
}
