import { nextRequest } from '../src/load-generator.js'

test('nextRequest follows the documented mix', () => {
  const at = (r: number) => nextRequest(() => 7, () => r)
  expect(at(0.1)).toEqual({ method: 'GET', path: '/api/products/7' })
  expect(at(0.5).path).toMatch(/^\/api\/prices\/[A-Z]+$/)
  expect(at(0.75).path).toMatch(/^\/api\/forecast\/[a-z]+$/)
  expect(at(0.85).path).toBe('/api/flags')
  expect(at(0.95).path).toBe('/api/shared-rates')
  expect(at(0.999)).toEqual({ method: 'POST', path: '/api/products/7/invalidate' })
})
