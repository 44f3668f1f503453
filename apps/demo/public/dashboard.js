// The acache demo dashboard: polls /stats once a second and draws hand-written canvas charts.
// No dependencies, no network beyond this server.

let WINDOW_S = 60 // seconds shown; the server keeps 300
const POLL_MS = 1000

const FN = {
  product: { label: 'product · TTL', color: '#60a5fa' },
  price: { label: 'price · SWR', color: '#f59e0b' },
  forecast: { label: 'forecast · refresh-ahead', color: '#34d399' },
  flags: { label: 'flags · bg', color: '#a78bfa' },
  'shared-rates': { label: 'shared rates · bg.read', color: '#f472b6' },
}
const TIER_COLORS = { memory: '#38bdf8', file: '#fbbf24', redis: '#f87171', s3: '#fb923c', gcs: '#4ade80' }
const JOBS = {
  price: { label: 'price SWR refresh', color: '#f59e0b' },
  forecast: { label: 'forecast refresh-ahead', color: '#34d399' },
  flags: { label: 'flags bg tick', color: '#a78bfa' },
  writer: { label: 'writer bg.write tick', color: '#f472b6' },
}
const FAILURE = '#f87171'
const GRID = 'rgba(142, 154, 181, 0.14)'
const AXIS_TEXT = '#8e9ab5'

const $ = (id) => document.getElementById(id)
let points = []
let latest = null
let lastT = 0

// ------------------------------------------------------------------------------------------------
// Formatting
// ------------------------------------------------------------------------------------------------
const fmtNum = (v, digits = 1) => (v === null || v === undefined || Number.isNaN(v) ? '–' : Number(v).toFixed(digits).replace(/\.0+$/, ''))
const fmtMs = (v) => {
  if (v === null || v === undefined) return '–'
  if (v < 1) return `${v.toFixed(2)} ms`
  if (v < 10) return `${v.toFixed(1)} ms`
  return `${Math.round(v)} ms`
}
const fmtPct = (v) => (v === null || v === undefined ? '–' : `${v.toFixed(v === 100 ? 0 : 1)}%`)
const fmtRate = (v) => (v === null || v === undefined ? '–' : `${fmtNum(v, v < 10 ? 1 : 0)}/s`)
const clockOf = (t) => new Date(t).toLocaleTimeString([], { hour12: false })

function niceCeil(v, min = 1) {
  if (!(v > min)) return min
  const p = 10 ** Math.floor(Math.log10(v))
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p
  return 10 * p
}

/** A round step (1, 2, 2.5 or 5 × 10^k) no smaller than `v`. */
function niceStep(v) {
  if (!(v > 0)) return 1
  const p = 10 ** Math.floor(Math.log10(v))
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p * 1.0000001) return m * p
  return 10 * p
}

function hexAlpha(hex, alpha) {
  const n = parseInt(hex.slice(1), 16)
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`
}

/** Sizes a canvas to its CSS box at the device pixel ratio; returns a 2D context in CSS pixels. */
function prepare(canvas) {
  const dpr = window.devicePixelRatio || 1
  const w = Math.max(10, canvas.clientWidth)
  const h = Math.max(10, canvas.clientHeight)
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr)
    canvas.height = Math.round(h * dpr)
  }
  const ctx = canvas.getContext('2d')
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0)
  ctx.clearRect(0, 0, w, h)
  return { ctx, w, h }
}

// ------------------------------------------------------------------------------------------------
// Time-series chart: lines (optionally log-scaled, dashed, filled) or stacked bars (optionally
// mirrored: some series below the axis). A legend that toggles series, a hover crosshair.
// ------------------------------------------------------------------------------------------------
class TimeChart {
  /**
   * @param {string} id canvas id (the legend is `legend-<id without chart->`)
   * @param {object} options { kind: 'line'|'bars', unit, yMax?, minYMax?, log?, empty?, series: () => Series[] }
   * Series: { key, label, color, value(point) → number|null, dash?, fill?, below?, group?, legend? }
   */
  constructor(id, options) {
    this.canvas = $(id)
    this.legend = $(id.replace('chart-', 'legend-'))
    this.options = options
    this.hidden = new Set()
    this.hoverX = null
    this.draws = 0
    this.canvas.addEventListener('mousemove', (e) => {
      this.hoverX = e.offsetX
      this.draw()
      this.showTooltip(e)
    })
    this.canvas.addEventListener('mouseleave', () => {
      this.hoverX = null
      $('tooltip').hidden = true
      this.draw()
    })
  }

  setData(pts, now) {
    this.points = pts
    this.now = now
    this.series = this.options.series()
    this.renderLegend()
    this.draw()
  }

  visible() {
    return this.series.filter((s) => !this.hidden.has(s.group ?? s.key))
  }

  renderLegend() {
    if (!this.legend) return
    const groups = new Map()
    for (const s of this.series) {
      if (s.legend === false) continue
      const g = s.group ?? s.key
      if (!groups.has(g)) groups.set(g, s)
    }
    const last = this.points[this.points.length - 1]
    const html = [...groups.entries()]
      .map(([g, s]) => {
        const value = s.legendValue ? s.legendValue(last) : last ? this.format(s.value(last)) : '–'
        const box = this.options.kind === 'bars' ? ' box' : ''
        const dash = s.dash ? `background: repeating-linear-gradient(90deg, ${s.color} 0 4px, transparent 4px 7px)` : `background:${s.color}`
        return `<span class="legend-item${this.hidden.has(g) ? ' off' : ''}" data-group="${g}"><span class="swatch${box}" style="${dash}"></span>${s.label}<span class="value">${value}</span></span>`
      })
      .join('')
    if (this.legend.innerHTML !== html) {
      this.legend.innerHTML = html
      for (const el of this.legend.querySelectorAll('.legend-item')) {
        el.addEventListener('click', () => {
          const g = el.dataset.group
          if (this.hidden.has(g)) this.hidden.delete(g)
          else this.hidden.add(g)
          this.renderLegend()
          this.draw()
        })
      }
    }
  }

  format(v) {
    const unit = this.options.unit
    if (v === null || v === undefined) return '–'
    if (unit === '%') return fmtPct(v)
    if (unit === 'ms') return fmtMs(v)
    if (unit === '/s') return fmtRate(v)
    return fmtNum(v)
  }

  geometry(w, h) {
    const left = this.options.log ? 58 : 48
    return { left, right: w - 12, top: 8, bottom: h - 22 }
  }

  xOf(t, g) {
    const start = this.now - WINDOW_S * 1000
    return g.left + ((t - start) / (WINDOW_S * 1000)) * (g.right - g.left)
  }

  /** [lo, hi] of the y axis and a function value → y pixel. */
  scale(g, vis) {
    const { log, yMax, minYMax = 1, kind } = this.options
    const inWindow = this.points.filter((p) => p.t > this.now - WINDOW_S * 1000)
    if (log) {
      let lo = Infinity
      let hi = 0
      for (const p of inWindow)
        for (const s of vis) {
          const v = s.value(p)
          if (v !== null && v > 0) {
            lo = Math.min(lo, v)
            hi = Math.max(hi, v)
          }
        }
      const loE = Number.isFinite(lo) ? Math.max(-3, Math.floor(Math.log10(lo))) : -2
      const hiE = hi > 0 ? Math.max(loE + 2, Math.ceil(Math.log10(hi))) : 3
      const y = (v) => g.bottom - ((Math.log10(Math.max(v, 10 ** loE)) - loE) / (hiE - loE)) * (g.bottom - g.top)
      const ticks = []
      for (let e = loE; e <= hiE; e++) ticks.push(10 ** e)
      return { y, ticks, zero: g.bottom }
    }
    let up = 0
    let down = 0
    for (const p of inWindow) {
      if (kind === 'bars') {
        let a = 0
        let b = 0
        for (const s of vis) {
          const v = s.value(p) ?? 0
          if (s.below) b += v
          else a += v
        }
        up = Math.max(up, a)
        down = Math.max(down, b)
      } else {
        for (const s of vis) up = Math.max(up, s.value(p) ?? 0)
      }
    }
    const mirrored = vis.some((s) => s.below)
    const step = niceStep((yMax ?? Math.max(up, minYMax) + (mirrored ? Math.max(down, minYMax / 4) : 0)) / 4)
    const hi = yMax ?? Math.max(step, Math.ceil(up / step) * step)
    const lo = mirrored ? -Math.max(step, Math.ceil(down / step) * step) : 0
    const y = (v) => g.bottom - ((v - lo) / (hi - lo)) * (g.bottom - g.top)
    const ticks = []
    for (let v = lo; v <= hi + step / 1000; v += step) ticks.push(Math.round(v * 1e6) / 1e6)
    return { y, ticks, zero: y(0) }
  }

  draw() {
    if (!this.points) return
    const { ctx, w, h } = prepare(this.canvas)
    const g = this.geometry(w, h)
    const vis = this.visible()
    const sc = this.scale(g, vis)
    ctx.font = '11px ui-sans-serif, system-ui, sans-serif'

    // grid + y labels
    ctx.strokeStyle = GRID
    ctx.fillStyle = AXIS_TEXT
    ctx.lineWidth = 1
    ctx.textAlign = 'right'
    ctx.textBaseline = 'middle'
    for (const t of sc.ticks) {
      const y = Math.round(sc.y(t)) + 0.5
      ctx.beginPath()
      ctx.moveTo(g.left, y)
      ctx.lineTo(g.right, y)
      ctx.stroke()
      const label = this.options.log ? fmtMs(t).replace(' ms', '') + ' ms' : this.options.unit === '%' ? `${Math.round(t)}%` : fmtNum(Math.abs(t), t % 1 ? 1 : 0)
      ctx.fillText(label, g.left - 6, y)
    }
    // x labels: a quarter of the window apart
    ctx.textAlign = 'center'
    ctx.textBaseline = 'top'
    for (let s = WINDOW_S; s >= 0; s -= WINDOW_S / 4) {
      const x = this.xOf(this.now - s * 1000, g)
      const label = s === 0 ? 'now' : s >= 120 && s % 60 === 0 ? `−${s / 60}m` : `−${s}s`
      ctx.fillText(label, Math.min(Math.max(x, g.left + 10), g.right - 12), g.bottom + 6)
    }
    if (sc.zero > g.top && sc.zero < g.bottom && vis.some((s) => s.below)) {
      ctx.strokeStyle = 'rgba(230, 235, 245, 0.35)'
      ctx.beginPath()
      ctx.moveTo(g.left, Math.round(sc.zero) + 0.5)
      ctx.lineTo(g.right, Math.round(sc.zero) + 0.5)
      ctx.stroke()
    }

    ctx.save()
    ctx.beginPath()
    ctx.rect(g.left, g.top - 2, g.right - g.left, g.bottom - g.top + 4)
    ctx.clip()
    const inWindow = this.points.filter((p) => p.t > this.now - (WINDOW_S + 2) * 1000)
    let drawn = 0
    if (this.options.kind === 'bars') {
      const bw = Math.max(2, ((g.right - g.left) / WINDOW_S) * 0.72)
      for (const p of inWindow) {
        const x = this.xOf(p.t, g) - bw / 2
        let up = 0
        let down = 0
        for (const s of vis) {
          const v = s.value(p)
          if (!v) continue
          drawn++
          ctx.fillStyle = s.color
          if (s.below) {
            const y0 = sc.y(-down)
            down += v
            ctx.fillRect(x, y0, bw, sc.y(-down) - y0)
          } else {
            const y0 = sc.y(up)
            up += v
            ctx.fillRect(x, sc.y(up), bw, y0 - sc.y(up))
          }
        }
      }
    } else {
      for (const s of vis) {
        ctx.strokeStyle = s.color
        ctx.lineWidth = s.width ?? 2
        ctx.setLineDash(s.dash ? [5, 4] : [])
        ctx.lineJoin = 'round'
        let run = []
        const flush = () => {
          if (run.length === 1) {
            ctx.fillStyle = s.color
            ctx.beginPath()
            ctx.arc(run[0][0], run[0][1], 2.2, 0, Math.PI * 2)
            ctx.fill()
          } else if (run.length > 1) {
            if (s.fill) {
              const grad = ctx.createLinearGradient(0, g.top, 0, g.bottom)
              grad.addColorStop(0, hexAlpha(s.color, 0.35))
              grad.addColorStop(1, hexAlpha(s.color, 0.02))
              ctx.fillStyle = grad
              ctx.beginPath()
              ctx.moveTo(run[0][0], sc.zero)
              for (const [x, y] of run) ctx.lineTo(x, y)
              ctx.lineTo(run[run.length - 1][0], sc.zero)
              ctx.closePath()
              ctx.fill()
            }
            ctx.beginPath()
            run.forEach(([x, y], i) => (i === 0 ? ctx.moveTo(x, y) : ctx.lineTo(x, y)))
            ctx.stroke()
          }
          run = []
        }
        for (const p of inWindow) {
          const v = s.value(p)
          if (v === null || v === undefined || (this.options.log && v <= 0)) {
            flush()
            continue
          }
          drawn++
          run.push([this.xOf(p.t, g), sc.y(v)])
        }
        flush()
      }
      ctx.setLineDash([])
    }
    ctx.restore()

    if (drawn === 0) {
      ctx.fillStyle = AXIS_TEXT
      ctx.textAlign = 'center'
      ctx.textBaseline = 'middle'
      ctx.font = '13px ui-sans-serif, system-ui, sans-serif'
      ctx.fillText(this.options.empty ?? 'no data yet — press “Start load”', (g.left + g.right) / 2, (g.top + g.bottom) / 2)
    }

    if (this.hoverX !== null && this.hoverX >= g.left && this.hoverX <= g.right) {
      ctx.strokeStyle = 'rgba(230, 235, 245, 0.4)'
      ctx.setLineDash([3, 3])
      ctx.beginPath()
      ctx.moveTo(this.hoverX + 0.5, g.top)
      ctx.lineTo(this.hoverX + 0.5, g.bottom)
      ctx.stroke()
      ctx.setLineDash([])
    }
    this.draws += 1
    this.canvas.dataset.points = String(drawn)
    this.canvas.dataset.draws = String(this.draws)
  }

  showTooltip(e) {
    const tip = $('tooltip')
    const { w, h } = { w: this.canvas.clientWidth, h: this.canvas.clientHeight }
    const g = this.geometry(w, h)
    if (!this.points?.length || e.offsetX < g.left || e.offsetX > g.right) {
      tip.hidden = true
      return
    }
    const t = this.now - WINDOW_S * 1000 + ((e.offsetX - g.left) / (g.right - g.left)) * WINDOW_S * 1000
    let best = null
    for (const p of this.points) if (best === null || Math.abs(p.t - t) < Math.abs(best.t - t)) best = p
    if (!best || Math.abs(best.t - t) > 2000) {
      tip.hidden = true
      return
    }
    const rows = this.visible()
      .map((s) => ({ s, v: s.value(best) }))
      .filter(({ v }) => v !== null && v !== undefined && !(this.options.kind === 'bars' && v === 0))
      .map(({ s, v }) => `<div class="row"><span><span class="dot" style="background:${s.color}"></span>${s.tipLabel ?? s.label}</span><b>${this.format(v)}</b></div>`)
    tip.innerHTML = `<div class="muted">${clockOf(best.t)}</div>${rows.join('') || '<div class="muted">nothing in this second</div>'}`
    tip.hidden = false
    tip.style.left = `${Math.min(e.clientX + 14, window.innerWidth - 240)}px`
    tip.style.top = `${e.clientY + 12}px`
  }
}

// ------------------------------------------------------------------------------------------------
// Small charts: sparklines, ring gauges, horizontal bars
// ------------------------------------------------------------------------------------------------
function sparkline(id, values, color, { min = 0, max } = {}) {
  const canvas = $(id)
  const { ctx, w, h } = prepare(canvas)
  const vals = values.slice(-60)
  const present = vals.filter((v) => v !== null && v !== undefined)
  canvas.dataset.points = String(present.length)
  if (present.length === 0) return
  const hi = max ?? Math.max(1e-9, ...present)
  const x = (i) => (i / Math.max(1, vals.length - 1)) * w
  const y = (v) => h - 3 - ((v - min) / (hi - min || 1)) * (h - 6)
  const grad = ctx.createLinearGradient(0, 0, 0, h)
  grad.addColorStop(0, hexAlpha(color, 0.35))
  grad.addColorStop(1, hexAlpha(color, 0))
  ctx.beginPath()
  let started = false
  let firstX = 0
  let lastX = 0
  vals.forEach((v, i) => {
    if (v === null || v === undefined) return
    if (!started) {
      ctx.moveTo(x(i), y(v))
      firstX = x(i)
      started = true
    } else ctx.lineTo(x(i), y(v))
    lastX = x(i)
  })
  ctx.strokeStyle = color
  ctx.lineWidth = 1.6
  ctx.stroke()
  ctx.lineTo(lastX, h)
  ctx.lineTo(firstX, h)
  ctx.closePath()
  ctx.fillStyle = grad
  ctx.fill()
}

function ring(canvas, fraction, color) {
  const { ctx, w, h } = prepare(canvas)
  const r = Math.min(w, h) / 2 - 5
  const cx = w / 2
  const cy = h / 2
  ctx.lineWidth = 7
  ctx.strokeStyle = 'rgba(142, 154, 181, 0.18)'
  ctx.beginPath()
  ctx.arc(cx, cy, r, 0, Math.PI * 2)
  ctx.stroke()
  if (fraction !== null) {
    ctx.strokeStyle = color
    ctx.lineCap = 'round'
    ctx.beginPath()
    ctx.arc(cx, cy, r, -Math.PI / 2, -Math.PI / 2 + Math.PI * 2 * Math.max(0.002, fraction))
    ctx.stroke()
  }
  ctx.fillStyle = '#e6ebf5'
  ctx.font = '600 12px ui-sans-serif, system-ui, sans-serif'
  ctx.textAlign = 'center'
  ctx.textBaseline = 'middle'
  ctx.fillText(fraction === null ? '–' : `${Math.round(fraction * 100)}%`, cx, cy + 1)
}

function horizontalBars(id, rows) {
  const canvas = $(id)
  const { ctx, w, h } = prepare(canvas)
  const max = niceCeil(Math.max(1, ...rows.map((r) => r.total)))
  const left = 74
  const right = w - 48
  const rowH = Math.min(24, (h - 6) / Math.max(1, rows.length))
  ctx.font = '12px ui-sans-serif, system-ui, sans-serif'
  ctx.textBaseline = 'middle'
  rows.forEach((r, i) => {
    const y = 4 + i * rowH
    const bh = rowH - 8
    ctx.fillStyle = AXIS_TEXT
    ctx.textAlign = 'right'
    ctx.fillText(r.label, left - 8, y + bh / 2)
    ctx.fillStyle = 'rgba(142, 154, 181, 0.12)'
    ctx.fillRect(left, y, right - left, bh)
    const okW = ((r.total - r.failed) / max) * (right - left)
    const failW = (r.failed / max) * (right - left)
    ctx.fillStyle = r.color
    ctx.fillRect(left, y, okW, bh)
    ctx.fillStyle = FAILURE
    ctx.fillRect(left + okW, y, failW, bh)
    ctx.fillStyle = '#e6ebf5'
    ctx.textAlign = 'left'
    ctx.fillText(String(r.total), left + okW + failW + 6, y + bh / 2)
  })
  canvas.dataset.points = String(rows.length)
}

// ------------------------------------------------------------------------------------------------
// The charts of this page
// ------------------------------------------------------------------------------------------------
const functionNames = () => latest?.setup.functions ?? Object.keys(FN)
const tierList = () => latest?.setup.tiers ?? []
const jobNames = () => {
  const names = new Set(Object.keys(JOBS))
  for (const p of points) for (const k of Object.keys(p.refreshes ?? {})) names.add(k)
  return [...names]
}
const perSecond = (p, v) => (v === null || v === undefined ? null : v / (p.seconds || 1))

const charts = {
  traffic: new TimeChart('chart-traffic', {
    kind: 'line',
    unit: '/s',
    minYMax: 5,
    series: () => [
      { key: 'requests', label: 'requests', color: '#60a5fa', fill: true, value: (p) => perSecond(p, p.requests) },
      { key: 'upstream', label: 'upstream calls', color: '#fbbf24', fill: true, value: (p) => perSecond(p, p.upstreamCalls) },
      { key: 'errors', label: 'errors (5xx)', color: FAILURE, value: (p) => perSecond(p, p.errors) },
    ],
  }),
  fnHit: new TimeChart('chart-fn-hit', {
    kind: 'line',
    unit: '%',
    yMax: 100,
    series: () => functionNames().map((n) => ({ key: n, label: FN[n]?.label ?? n, color: FN[n]?.color ?? '#ccc', value: (p) => p.functions?.[n]?.hitRate ?? null })),
  }),
  tierHit: new TimeChart('chart-tier-hit', {
    kind: 'line',
    unit: '%',
    yMax: 100,
    series: () =>
      tierList().map((t, i) => ({
        key: t.metricsName,
        label: `L${i + 1} ${t.kind}`,
        color: TIER_COLORS[t.kind] ?? '#ccc',
        value: (p) => p.tiers?.[t.metricsName]?.hitRate ?? null,
      })),
  }),
  latency: new TimeChart('chart-latency', {
    kind: 'line',
    unit: 'ms',
    log: true,
    series: () =>
      functionNames().flatMap((n) => {
        const base = { group: n, color: FN[n]?.color ?? '#ccc', label: FN[n]?.label ?? n }
        return [
          { ...base, key: `${n}:p50`, tipLabel: `${n} p50`, value: (p) => p.functions?.[n]?.p50Ms ?? null, legendValue: (p) => `${fmtMs(p?.functions?.[n]?.p50Ms)} / ${fmtMs(p?.functions?.[n]?.p99Ms)}` },
          { ...base, key: `${n}:p99`, tipLabel: `${n} p99`, dash: true, width: 1.5, legend: false, value: (p) => p.functions?.[n]?.p99Ms ?? null },
        ]
      }),
  }),
  stale: new TimeChart('chart-stale', {
    kind: 'bars',
    unit: '/s',
    empty: 'no stale values served yet',
    series: () =>
      functionNames()
        .filter((n) => n === 'price' || n === 'forecast' || points.some((p) => p.functions?.[n]?.stale))
        .map((n) => ({ key: n, label: FN[n]?.label ?? n, color: FN[n]?.color ?? '#ccc', value: (p) => perSecond(p, p.functions?.[n]?.stale ?? 0) })),
  }),
  refresh: new TimeChart('chart-refresh', {
    kind: 'bars',
    unit: '/s',
    empty: 'no background refresh yet',
    series: () => [
      ...jobNames().map((j) => ({ key: j, label: JOBS[j]?.label ?? j, color: JOBS[j]?.color ?? '#ccc', value: (p) => perSecond(p, p.refreshes?.[j]?.success ?? 0) })),
      ...jobNames().map((j) => ({
        key: `${j}:failed`,
        group: 'failed',
        label: 'failed',
        tipLabel: `${JOBS[j]?.label ?? j} failed`,
        color: FAILURE,
        below: true,
        legend: j === jobNames()[0],
        legendValue: () => String(totalFailures()),
        value: (p) => perSecond(p, p.refreshes?.[j]?.failure ?? 0),
      })),
    ],
  }),
  writer: new TimeChart('chart-writer', {
    kind: 'bars',
    unit: '/s',
    empty: 'waiting for the writer process',
    series: () => [
      { key: 'ok', label: 'writer ticks', color: JOBS.writer.color, value: (p) => p.refreshes?.writer?.success ?? 0 },
      { key: 'failed', label: 'failed', color: FAILURE, below: true, value: (p) => p.refreshes?.writer?.failure ?? 0 },
    ],
  }),
}

function totalFailures() {
  const br = latest?.metrics.backgroundRefresh ?? {}
  return Object.values(br).reduce((n, r) => n + r.failure, 0)
}

// ------------------------------------------------------------------------------------------------
// Rendering a /stats answer
// ------------------------------------------------------------------------------------------------
function renderTiers() {
  const el = $('tiers')
  const tiers = tierList()
  const key = tiers.map((t) => t.metricsName).join('|')
  if (el.dataset.key !== key) {
    el.dataset.key = key
    el.innerHTML =
      `<div class="tier-caller">cache()<br/><span class="muted">${latest.setup.composition}</span></div>` +
      tiers
        .map(
          (t, i) =>
            `${i > 0 ? '<div class="tier-arrow">→</div>' : ''}<div class="tier"><canvas id="ring-${i}" aria-label="${t.kind} hit rate"></canvas><div><div class="tier-name">L${i + 1} · ${t.kind}</div><div class="tier-where" title="${t.where}">${t.where}</div><div class="tier-where">${t.ttlCap ? `keeps ≤ ${t.ttlCap >= 60 ? `${t.ttlCap / 60} min` : `${t.ttlCap} s`}` : 'keeps as long as the TTL'} · <span id="tier-reads-${i}"></span></div></div></div>`,
        )
        .join('')
  }
  const recent = points.slice(-10)
  tiers.forEach((t, i) => {
    let hits = 0
    let reads = 0
    for (const p of recent) {
      const s = p.tiers?.[t.metricsName]
      if (s && s.reads) {
        reads += s.reads
        hits += (s.hitRate / 100) * s.reads
      }
    }
    ring($(`ring-${i}`), reads ? hits / reads : null, TIER_COLORS[t.kind] ?? '#ccc')
    $(`tier-reads-${i}`).textContent = `${fmtNum(reads / Math.max(1, recent.length), 1)} reads/s`
  })
}

function renderKpis() {
  const recent = points.slice(-60)
  const last = points[points.length - 1]
  const hitOf = (p) => {
    let hits = 0
    let reads = 0
    for (const f of Object.values(p.functions ?? {})) {
      if (f.hitRate !== null) {
        hits += (f.hitRate / 100) * f.reads
        reads += f.reads
      }
    }
    return reads ? (hits / reads) * 100 : null
  }
  const staleOf = (p) => Object.values(p.functions ?? {}).reduce((n, f) => n + (f.stale ?? 0), 0) / (p.seconds || 1)
  const okOf = (p) => Object.values(p.refreshes ?? {}).reduce((n, r) => n + r.success, 0)
  $('kpi-rps').textContent = last ? fmtNum(perSecond(last, last.requests), 0) : '–'
  $('kpi-hit').textContent = last ? fmtPct(hitOf(last)) : '–'
  $('kpi-upstream').textContent = last ? fmtNum(perSecond(last, last.upstreamCalls), 0) : '–'
  $('kpi-p99').textContent = last ? fmtMs(last.calls?.p99Ms) : '–'
  $('kpi-stale').textContent = last ? fmtNum(staleOf(last), 0) : '–'
  const br = latest?.metrics.backgroundRefresh ?? {}
  const ok = Object.values(br).reduce((n, r) => n + r.success, 0)
  $('kpi-refresh').innerHTML = `<span style="color:var(--ok)">${ok}</span> <span class="muted">/</span> <span style="color:var(--bad)">${totalFailures()}</span>`
  sparkline('spark-rps', recent.map((p) => perSecond(p, p.requests)), '#60a5fa')
  sparkline('spark-hit', recent.map(hitOf), '#34d399', { min: 0, max: 100 })
  sparkline('spark-upstream', recent.map((p) => perSecond(p, p.upstreamCalls)), '#fbbf24')
  sparkline('spark-p99', recent.map((p) => p.calls?.p99Ms ?? null), '#f472b6')
  sparkline('spark-stale', recent.map(staleOf), '#f59e0b')
  sparkline('spark-refresh', recent.map(okOf), '#a78bfa')
}

function renderShared() {
  const s = latest.shared
  const w = latest.writer
  const age = s ? Math.max(0, (latest.now - Date.parse(s.writtenAt)) / 1000) : null
  const cells = [
    ['writer pid', w.enabled === false ? 'off' : (w.pid ?? '–')],
    ['value seq (bg.read)', s ? s.seq : '–'],
    ['age', age === null ? '–' : `${age.toFixed(1)} s`],
    ['writer ticks', w.ticks ? `${w.ticks.success}` : '–'],
    ['failed ticks', w.ticks ? `${w.ticks.failure}` : '–'],
    ['store', latest.setup.sharedStore],
  ]
  $('shared').innerHTML = cells.map(([k, v]) => `<div class="cell"><b>${v}</b><span>${k}</span></div>`).join('')
  const endpoints = latest.upstream.endpoints
  const colors = { catalog: FN.product.color, pricing: FN.price.color, weather: FN.forecast.color, config: FN.flags.color }
  horizontalBars(
    'chart-upstream',
    Object.entries(endpoints).map(([name, c]) => ({ label: name, total: c.calls, failed: c.failures, color: colors[name] ?? '#94a3b8' })),
  )
}

function renderEvents() {
  const html = latest.events
    .slice()
    .reverse()
    .map((e) => `<li class="${e.level}"><time>${clockOf(e.t)}</time><span>${escapeHtml(e.message)}</span></li>`)
    .join('')
  if ($('events').innerHTML !== html) $('events').innerHTML = html
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c])
}

function renderControls() {
  const running = latest.load.running
  const button = $('load-toggle')
  button.textContent = running ? '■ Stop load' : '▶ Start load'
  button.setAttribute('aria-pressed', String(running))
  $('load-info').textContent = running ? `${latest.load.sent} sent · ${latest.load.failed} failed` : latest.load.sent ? `${latest.load.sent} sent so far` : ''
  if (running && document.activeElement !== $('load-rps')) $('load-rps').value = String(latest.load.rps)
  for (const b of $('failure-rate').querySelectorAll('button')) b.classList.toggle('active', Number(b.dataset.rate) === latest.upstream.failureRate)
  const [lo, hi] = latest.upstream.latencyMs
  $('upstream-latency').textContent = `latency ${lo}–${hi} ms`
  const tiers = tierList().map((t) => t.kind).join(' → ')
  $('setup').textContent = `pid ${latest.setup.pid} · ${tiers} · up ${Math.round(latest.uptimeSeconds)} s`
  $('clock').textContent = `updated ${clockOf(latest.now)}`
}

function render() {
  const now = points.length ? points[points.length - 1].t : (latest?.now ?? Date.now())
  for (const chart of Object.values(charts)) chart.setData(points, now)
  renderTiers()
  renderKpis()
  renderShared()
  renderEvents()
  renderControls()
}

// ------------------------------------------------------------------------------------------------
// Polling and controls
// ------------------------------------------------------------------------------------------------
function setConnection(ok) {
  const el = $('connection')
  el.className = `pill ${ok ? 'pill-ok' : 'pill-bad'}`
  el.textContent = ok ? '● live' : '● disconnected'
}

async function refresh() {
  const res = await fetch(`/stats?since=${lastT}`, { cache: 'no-store' })
  if (!res.ok) throw new Error(`/stats answered ${res.status}`)
  latest = await res.json()
  for (const p of latest.history) if (p.t > lastT) points.push(p)
  if (points.length) lastT = points[points.length - 1].t
  const cutoff = lastT - 305 * 1000
  if (points.length && points[0].t < cutoff) points = points.filter((p) => p.t >= cutoff)
  render()
}

async function poll() {
  try {
    await refresh()
    setConnection(true)
  } catch {
    setConnection(false)
  }
  setTimeout(poll, POLL_MS)
}

async function post(path) {
  const res = await fetch(path, { method: 'POST' })
  if (!res.ok) console.warn(`${path}: ${res.status} ${await res.text()}`)
  await refresh().catch(() => {})
}

$('load-toggle').addEventListener('click', () => {
  const running = latest?.load.running
  void post(running ? '/load/stop' : `/load/start?rps=${$('load-rps').value}`)
})
$('load-rps').addEventListener('change', () => {
  if (latest?.load.running) void post(`/load/start?rps=${$('load-rps').value}`)
})
for (const b of $('failure-rate').querySelectorAll('button')) {
  b.addEventListener('click', () => void post(`/upstream?failureRate=${b.dataset.rate}`))
}
$('invalidate-hot').addEventListener('click', async () => {
  await Promise.all([1, 2, 3, 4, 5].map((id) => fetch(`/api/products/${id}/invalidate`, { method: 'POST' })))
  await refresh().catch(() => {})
})
$('clear-all').addEventListener('click', () => void post('/api/cache/clear'))
for (const b of $('window').querySelectorAll('button')) {
  b.addEventListener('click', () => {
    WINDOW_S = Number(b.dataset.window)
    for (const other of $('window').querySelectorAll('button')) other.classList.toggle('active', other === b)
    if (latest) render()
  })
}
window.addEventListener('resize', () => latest && render())

poll()
