import { redact } from '../src/tiers.js'

test('redact hides passwords only', () => {
  expect(redact('redis://user:secret@host:6379')).toBe('redis://user:***@host:6379')
  expect(redact('redis://:secret@host')).toBe('redis://:***@host')
  expect(redact('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379')
})
