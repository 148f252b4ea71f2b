#!/usr/bin/env node
// Writes oclif.manifest.json from the compiled commands in dist/ (run by `npm run build`).
// oclif reads the manifest instead of importing every command, which keeps start-up fast.
import {Plugin} from '@oclif/core'
import {writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const plugin = new Plugin({errorOnManifestCreate: true, ignoreManifest: true, isRoot: true, root, type: 'core'})
await plugin.load()
// Commands in a stable order: the glob oclif uses lists files in whatever order the file system
// gives, and a committed file that changes on every build helps nobody.
const manifest = plugin.manifest
manifest.commands = Object.fromEntries(Object.entries(manifest.commands).sort(([a], [b]) => a.localeCompare(b)))
writeFileSync(join(root, 'oclif.manifest.json'), JSON.stringify(manifest, null, 2) + '\n')
