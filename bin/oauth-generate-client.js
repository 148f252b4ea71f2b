#!/usr/bin/env node
// The flat executable for `gatehouse oauth-generate-client` (see package.json "bin"). The command id goes into
// process.argv itself, not only into execute()'s args: oclif's error handler reprints help
// from process.argv, and would otherwise show the root help after a flag error.
import {execute} from '@oclif/core'

process.argv.splice(2, 0, 'oauth-generate-client')
await execute({dir: import.meta.url})
