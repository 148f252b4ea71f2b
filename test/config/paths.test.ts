import assert from 'node:assert/strict'
import {test} from 'node:test'
import {resolveDataDir} from '../../src/config/paths.js'

test('data dir: flag, then GATEHOUSE_DATA_DIR, then the OS per-user folder honouring XDG_DATA_HOME', () => {
  const home = '/home/ada'
  assert.equal(resolveDataDir('/flag', {GATEHOUSE_DATA_DIR: '/env'}, 'linux', home), '/flag')
  assert.equal(resolveDataDir(undefined, {GATEHOUSE_DATA_DIR: '/env'}, 'linux', home), '/env')
  assert.equal(resolveDataDir(undefined, {}, 'linux', home), '/home/ada/.local/share/gatehouse')
  assert.equal(resolveDataDir(undefined, {XDG_DATA_HOME: '/xdg'}, 'linux', home), '/xdg/gatehouse')
  assert.equal(resolveDataDir(undefined, {XDG_DATA_HOME: 'relative'}, 'linux', home), '/home/ada/.local/share/gatehouse')
  assert.equal(resolveDataDir(undefined, {}, 'darwin', home), '/home/ada/Library/Application Support/gatehouse')
  assert.match(resolveDataDir(undefined, {LOCALAPPDATA: 'C:\\Users\\ada\\AppData\\Local'}, 'win32', home), /gatehouse$/)
})
