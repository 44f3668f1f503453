// The members of a cached function: invalidate, clear, refresh, peek, key, store.
// Run: node examples/members.mjs
import assert from 'node:assert/strict'
import { cache, InMemCache } from '@acache/core'

let n = 0
const store = new InMemCache()
const getUser = cache(60, { key: 'user:{0}', store })(async (id) => `user ${id} (load #${++n})`)

assert.equal(await getUser(1), 'user 1 (load #1)')

// key(...args): the key those arguments map to
assert.equal(getUser.key(1), 'user:1')
// store: where the entries live
assert.equal(getUser.store, store)
assert.equal(store.get('user:1'), 'user 1 (load #1)')
console.log(`key(1) = "${getUser.key(1)}"; store is the InMemCache passed in`)

// peek(...args): the cached value (fresh or stale) without calling the function
assert.equal(await getUser.peek(1), 'user 1 (load #1)')
assert.equal(await getUser.peek(2), undefined)
assert.equal(n, 1)
console.log(`peek(1) = "${await getUser.peek(1)}", peek(2) = undefined, no load`)

// invalidate(...args): remove that entry; the next call loads again
await getUser.invalidate(1)
assert.equal(store.exists('user:1'), false)
assert.equal(await getUser(1), 'user 1 (load #2)')
console.log(`invalidate(1) then getUser(1) -> "user 1 (load #2)"`)

// refresh(...args): run the function now, store the result, restart its TTL; resolves to the new value
const refreshed = await getUser.refresh(1)
assert.equal(refreshed, 'user 1 (load #3)')
assert.equal(await getUser(1), 'user 1 (load #3)')
console.log(`refresh(1) -> "${refreshed}" (skips the cache, stores the result)`)

// clear(): remove every entry of the store (a shared store is cleared for everyone using it)
await getUser(2)
assert.equal(store.size, 2)
await getUser.clear()
assert.equal(store.size, 0)
console.log('clear() -> the store is empty')

// The wrapped function keeps the original's name and length.
const named = cache(60)(async function loadOrder(id, opts) {})
assert.equal(named.name, 'loadOrder')
assert.equal(named.length, 2)
console.log('\nmembers.mjs: OK')
