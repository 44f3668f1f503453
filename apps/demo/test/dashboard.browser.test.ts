/// <reference lib="dom" />
/**
 * The dashboard in a real headless Chromium (/usr/bin/chromium through playwright-core): load
 * `/`, press "Start load", check that the charts changed (points drawn and pixels), save a
 * screenshot to test-artifacts/dashboard.png, stop the load.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { APP_ROOT, get, startDemoProcess, waitFor, type DemoProcess } from './support/demo-process.js'

const CHROMIUM = '/usr/bin/chromium'
const SCREENSHOT = join(APP_ROOT, 'test-artifacts', 'dashboard.png')
const CHARTS = ['chart-traffic', 'chart-fn-hit', 'chart-tier-hit', 'chart-latency', 'chart-stale', 'chart-refresh'] as const

let demo: DemoProcess
let browser: Browser
let page: Page
const pageErrors: string[] = []

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does it)`)
  demo = await startDemoProcess({ args: ['--upstream-latency', '30-120', '--failure-rate', '0.05'] })
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    timeout: 60_000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-pings',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
    ],
  })
  page = await browser.newPage({ viewport: { width: 1440, height: 1000 } })
  page.on('pageerror', (error) => pageErrors.push(error.message))
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text())
  })
}, 90_000)

afterAll(async () => {
  await browser?.close()
  await demo?.stop()
})

/** Each chart's drawn-point count (the canvas's data-points) and pixels (a data URL). */
async function chartState(): Promise<Record<string, { points: number; draws: number; pixels: string }>> {
  return page.evaluate((ids) => {
    const out: Record<string, { points: number; draws: number; pixels: string }> = {}
    for (const id of ids) {
      const canvas = document.getElementById(id) as HTMLCanvasElement
      out[id] = { points: Number(canvas.dataset.points ?? -1), draws: Number(canvas.dataset.draws ?? 0), pixels: canvas.toDataURL() }
    }
    return out
  }, CHARTS as unknown as string[])
}

test('loads, starts the load generator from the button, and the charts follow', async () => {
  await page.goto(demo.url)
  await expect(page.title()).resolves.toContain('acache demo')
  // the first /stats answer has been drawn
  await page.waitForFunction(() => Number(document.getElementById('chart-fn-hit')?.dataset.draws ?? 0) >= 1, undefined, { timeout: 30_000 })
  await page.waitForFunction(() => document.getElementById('connection')?.textContent?.includes('live'), undefined, { timeout: 30_000 })
  const before = await chartState()
  // no traffic yet: nothing to plot in the traffic-driven charts
  expect(before['chart-fn-hit'].points).toBe(0)
  expect(before['chart-tier-hit'].points).toBe(0)
  expect(before['chart-latency'].points).toBe(0)
  expect(before['chart-stale'].points).toBe(0)
  expect(await page.textContent('#load-toggle')).toContain('Start load')
  expect((await get(`${demo.url}stats`)).body.load.running).toBe(false)

  await page.click('#load-toggle')
  await page.waitForFunction(() => document.getElementById('load-toggle')?.getAttribute('aria-pressed') === 'true', undefined, { timeout: 15_000 })
  expect(await page.textContent('#load-toggle')).toContain('Stop load')
  expect((await get(`${demo.url}stats`)).body.load.running).toBe(true)

  // A dozen seconds of traffic (so the screenshot shows a trend), then the charts must show hit
  // rates, tiers, latency and (after the 3 s price TTL) stale serves.
  await waitFor('12 s of load in the history', async () => (await get(`${demo.url}stats`)).body.history.filter((p: { requests: number }) => p.requests > 0).length >= 12, 60_000, 500)
  await page.waitForFunction(
    () => {
      const points = (id: string) => Number(document.getElementById(id)?.dataset.points ?? 0)
      return points('chart-fn-hit') >= 15 && points('chart-tier-hit') >= 6 && points('chart-latency') >= 15 && points('chart-stale') >= 2 && points('chart-traffic') >= 12
    },
    undefined,
    { timeout: 60_000, polling: 500 },
  )
  const after = await chartState()
  for (const id of CHARTS) {
    expect(after[id].draws).toBeGreaterThan(before[id].draws)
    expect(after[id].pixels).not.toBe(before[id].pixels)
  }
  expect(after['chart-traffic'].points).toBeGreaterThan(before['chart-traffic'].points)
  // the KPI tiles and legends show live numbers
  expect(await page.textContent('#kpi-rps')).toMatch(/^\d+$/)
  expect(await page.textContent('#kpi-hit')).toMatch(/%$/)
  expect(await page.textContent('#legend-fn-hit')).toMatch(/product · TTL\s*\d/)
  // the tier rings are drawn for memory and file
  expect(await page.locator('.tier canvas').count()).toBe(2)

  mkdirSync(join(APP_ROOT, 'test-artifacts'), { recursive: true })
  await page.screenshot({ path: SCREENSHOT, fullPage: true })
  expect(statSync(SCREENSHOT).size).toBeGreaterThan(20_000)

  await page.click('#load-toggle')
  await page.waitForFunction(() => document.getElementById('load-toggle')?.getAttribute('aria-pressed') === 'false', undefined, { timeout: 15_000 })
  expect((await get(`${demo.url}stats`)).body.load.running).toBe(false)
  expect(pageErrors).toEqual([])
})

test('the failure-rate control sets the failure rate of the upstream', async () => {
  await page.click('#failure-rate button[data-rate="0.5"]')
  await page.waitForFunction(() => document.querySelector('#failure-rate button.active')?.textContent === '50%', undefined, { timeout: 15_000 })
  expect((await get(`${demo.url}upstream`)).body.failureRate).toBe(0.5)
  await page.click('#failure-rate button[data-rate="0"]')
  await page.waitForFunction(() => document.querySelector('#failure-rate button.active')?.textContent === '0%', undefined, { timeout: 15_000 })
  expect((await get(`${demo.url}upstream`)).body.failureRate).toBe(0)
  expect(pageErrors).toEqual([])
})
