import {existsSync} from 'node:fs'
import type {TestContext} from 'node:test'
import {chromium, type Browser} from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'
export const noBrowser = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (install Debian's chromium to run the browser tests)`

/** Real headless Chromium, closed when the test ends. */
export async function launchBrowser(t: TestContext): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  t.after(() => browser.close())
  return browser
}
