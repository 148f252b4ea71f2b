import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {TestContext} from 'node:test'

/**
 * A fresh directory under the OS temp dir, removed when the test ends. A daemon or child the test
 * started may still be writing into it while its own stop hook runs (node:test runs `after`
 * hooks in the order they were added, so this one can come first): removal is retried, and a
 * directory that still cannot go is left in the temp dir rather than failing a test that passed.
 */
export function tempDir(t: TestContext, prefix = 'gatehouse-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.after(() => {
    try {
      rmSync(dir, {recursive: true, force: true, maxRetries: 10, retryDelay: 100})
    } catch {
      // left behind; the OS temp dir is cleaned on its own schedule
    }
  })
  return dir
}
