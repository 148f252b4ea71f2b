#!/usr/bin/env -S node --import tsx --no-warnings
// Runs the CLI from src/ through tsx, for development without a build.
import {execute} from '@oclif/core'

await execute({development: true, dir: import.meta.url})
