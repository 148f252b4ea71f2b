#!/usr/bin/env node
// The flat executable for `gatehouse oauth-list-clients` (see package.json "bin").
import {execute} from '@oclif/core'

await execute({args: ['oauth-list-clients', ...process.argv.slice(2)], dir: import.meta.url})
