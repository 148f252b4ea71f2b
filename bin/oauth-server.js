#!/usr/bin/env node
// The flat executable for `gatehouse oauth-server` (see package.json "bin").
import {execute} from '@oclif/core'

await execute({args: ['oauth-server', ...process.argv.slice(2)], dir: import.meta.url})
