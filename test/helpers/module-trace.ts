import {spawnSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'

/**
 * Runs `node --import <hook> ...args` with a module resolve hook (node:module register) that
 * writes the URL of every ES module resolved to a file under `dir`: which modules a process
 * loads, and in what order. Throws when the process exits non-zero.
 * Returns its stdout and the resolved URLs, in order.
 */
export function traceResolvedModules(dir: string, args: string[], env?: NodeJS.ProcessEnv): {stdout: string; resolved: string[]} {
  const out = join(dir, 'resolved.txt')
  const hooks = join(dir, 'hooks.mjs')
  const register = join(dir, 'register.mjs')
  writeFileSync(out, '')
  writeFileSync(
    hooks,
    `import {appendFileSync} from 'node:fs'
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context)
  appendFileSync(${JSON.stringify(out)}, r.url + '\\n')
  return r
}
`,
  )
  writeFileSync(register, `import {register} from 'node:module'\nregister(${JSON.stringify(pathToFileURL(hooks).href)})\n`)
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(register).href, ...args], {env, encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr}`)
  return {stdout: r.stdout, resolved: readFileSync(out, 'utf8').split('\n').filter(Boolean)}
}
