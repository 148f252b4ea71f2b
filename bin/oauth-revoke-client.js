#!/usr/bin/env node
// The flat executable for `gatehouse oauth-revoke-client` (see package.json "bin").
import {execute} from '@oclif/core'

await execute({args: ['oauth-revoke-client', ...process.argv.slice(2)], dir: import.meta.url})
