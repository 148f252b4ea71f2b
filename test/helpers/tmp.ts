import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {TestContext} from 'node:test'

/** A fresh directory under the OS temp dir, removed when the test ends. */
export function tempDir(t: TestContext, prefix = 'gatehouse-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  return dir
}
