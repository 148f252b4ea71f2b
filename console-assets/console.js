// The owner's console: live rows on the Activity page (server-sent events). Loaded from the
// daemon itself (script-src 'self'); no inline script, no library. Every value from the feed is
// set as text (never as HTML), with control and format characters shown as <U+XXXX> and each
// value isolated in <bdi>, as the server renders the rows (src/console/html.ts).
'use strict'
;(function () {
  var INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu
  var MAX_ROWS = 500

  function shown(s) {
    return String(s).replace(INVISIBLE, function (c) {
      return '<U+' + c.codePointAt(0).toString(16).toUpperCase().padStart(4, '0') + '>'
    })
  }
  function bdi(value, dir) {
    if (value === null || value === undefined || value === '') {
      var none = document.createElement('span')
      none.className = 'none'
      none.textContent = '–'
      return none
    }
    var b = document.createElement('bdi')
    b.setAttribute('dir', dir || 'auto')
    b.textContent = shown(value)
    return b
  }
  function cell(label, children, cls) {
    var td = document.createElement('td')
    td.setAttribute('data-label', label)
    if (cls) td.className = cls
    children.forEach(function (c) {
      td.appendChild(c)
    })
    return td
  }
  function code(node) {
    var c = document.createElement('code')
    c.appendChild(node)
    return c
  }
  function row(e) {
    var tr = document.createElement('tr')
    tr.setAttribute('data-id', String(e.id))
    tr.className = (e.outcome === 'ok' ? 'ok' : 'bad') + ' fresh'
    var t = document.createElement('time')
    t.setAttribute('datetime', e.time)
    t.setAttribute('title', e.time)
    t.textContent = String(e.time).slice(0, 16).replace('T', ' ')
    tr.appendChild(cell('Time', [t]))
    var client = []
    if (e.client_name !== null) client.push(bdi(e.client_name), document.createElement('br'))
    client.push(code(bdi(e.client_id, 'ltr')))
    tr.appendChild(cell('Client', client))
    tr.appendChild(cell('Event', [bdi(e.event, 'ltr')]))
    tr.appendChild(cell('Method', [bdi(e.method, 'ltr')]))
    tr.appendChild(cell('Name', [bdi(e.name)]))
    tr.appendChild(cell('Outcome', [bdi(e.outcome, 'ltr')]))
    tr.appendChild(cell('ms', [document.createTextNode(e.duration_ms === null ? '' : String(Math.round(e.duration_ms)))], 'num'))
    return tr
  }

  function live() {
    var table = document.getElementById('audit')
    if (!table || !window.EventSource) return
    var body = table.tBodies[0]
    var state = document.getElementById('live-state')
    var setState = function (s, text) {
      if (!state) return
      state.setAttribute('data-state', s)
      state.textContent = text
    }
    var source = new EventSource(table.getAttribute('data-feed'))
    source.onopen = function () {
      setState('on', 'live')
    }
    source.onerror = function () {
      setState('off', 'reconnecting…')
    }
    source.addEventListener('audit', function (m) {
      var e
      try {
        e = JSON.parse(m.data)
      } catch (err) {
        return
      }
      if (body.querySelector('tr[data-id="' + Number(e.id) + '"]')) return
      body.insertBefore(row(e), body.firstChild)
      var empty = document.getElementById('audit-empty')
      if (empty) empty.remove()
      while (body.rows.length > MAX_ROWS) body.deleteRow(body.rows.length - 1)
    })
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', live)
  else live()
})()
