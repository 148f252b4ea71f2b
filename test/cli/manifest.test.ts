import assert from 'node:assert/strict'
import {mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, relative} from 'node:path'
import {test} from 'node:test'
import {pathToFileURL} from 'node:url'
import {repoRoot, runBin} from '../helpers/cli.js'

interface ManifestCommand {
  flags: Record<string, {type: string; multiple?: boolean; env?: string; options?: string[]}>
  args: Record<string, unknown>
  summary?: string
}

function commandFiles(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) =>
    e.isDirectory() ? commandFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  )
}

test('oclif.manifest.json matches the commands in src/ (run `npm run build` when this fails)', async () => {
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, ManifestCommand>}
  const srcDir = join(repoRoot, 'src', 'commands')
  const ids: string[] = []
  for (const file of commandFiles(srcDir)) {
    const id = relative(srcDir, file).replace(/\.ts$/, '').split('/').join(':')
    ids.push(id)
    const Cmd = (await import(pathToFileURL(file).href)).default as {
      flags: Record<string, {type: string; multiple?: boolean; env?: string; options?: string[]}>
      baseFlags: Record<string, unknown>
      args?: Record<string, unknown>
      summary?: string
    }
    const entry = manifest.commands[id]
    assert.ok(entry, `${id} is missing from the manifest`)
    assert.equal(entry.summary, Cmd.summary, `${id}: summary`)
    assert.deepEqual(Object.keys(entry.flags).sort(), Object.keys({...Cmd.baseFlags, ...Cmd.flags}).sort(), `${id}: flags`)
    for (const [name, flag] of Object.entries(Cmd.flags)) {
      const m: {type: string; multiple?: boolean; env?: string; options?: string[]} = entry.flags[name]!
      assert.equal(m.type, flag.type, `${id} --${name}: type`)
      assert.equal(Boolean(m.multiple), Boolean(flag.multiple), `${id} --${name}: multiple`)
      assert.equal(m.env, flag.env, `${id} --${name}: env`)
      assert.deepEqual(m.options, flag.options, `${id} --${name}: options`)
    }
    assert.deepEqual(Object.keys(entry.args).sort(), Object.keys(Cmd.args ?? {}).sort(), `${id}: args`)
  }
  assert.deepEqual(Object.keys(manifest.commands).sort(), ids.sort(), 'the manifest lists exactly the commands in src/commands')
})

test('package.json bin has one executable per flat command, each running its own command', () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {bin: Record<string, string>}
  for (const name of ['oauth-server', 'oauth-generate-client', 'oauth-list-clients', 'oauth-revoke-client']) {
    assert.equal(pkg.bin[name], `bin/${name}.js`)
    const shim = readFileSync(join(repoRoot, pkg.bin[name]!), 'utf8')
    assert.ok(shim.startsWith('#!/usr/bin/env node'), name)
    assert.ok(shim.includes(`process.argv.splice(2, 0, '${name}')`), name)
  }
  assert.equal(pkg.bin.gatehouse, 'bin/run.js')
})

test('a flat executable given an unknown flag names the flag and shows its own usage, not the root help', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'gh-flags-'))
  try {
    for (const name of ['oauth-server', 'oauth-generate-client', 'oauth-list-clients', 'oauth-revoke-client']) {
      const r = await runBin(name, ['--no-such-flag'], {dataDir})
      assert.equal(r.code, 2, `${name}: exit status ${r.code}; ${r.stderr}`)
      assert.match(r.stderr, /Nonexistent flag: --no-such-flag/, name)
      assert.ok(r.stderr.includes(`$ gatehouse ${name} `), `${name}: its own usage: ${r.stderr}`)
      assert.ok(!r.stderr.includes('TOPICS'), `${name}: the root help was printed: ${r.stderr}`)
      assert.equal(r.stdout, '', name)
    }
  } finally {
    rmSync(dataDir, {recursive: true, force: true})
  }
})
