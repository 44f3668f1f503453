// cache() as a method decorator. Plain Node cannot parse `@decorator` syntax yet, so this script
// applies the decorator by hand, exactly as TypeScript 5 compiles a TC39 decorator:
//
//   class Users {
//     @cache(60, { key: 'user:{0}' })
//     async get(id: number) { … }
//   }
//
// becomes `Users.prototype.get = cache(60, { key: 'user:{0}' })(Users.prototype.get, { kind: 'method', name: 'get', … })`.
// Run: node examples/decorator.mjs
import assert from 'node:assert/strict'
import { cache, InMemoryMetrics } from '@acache/core'

let dbCalls = 0
const metrics = new InMemoryMetrics()

class Users {
  constructor(prefix) {
    this.prefix = prefix
  }
  async get(id) {
    dbCalls++
    return `${this.prefix}${id}` // `this` is the instance the method was called on
  }
}

// What `@cache(60, { key: 'user:{0}', metrics })` on `get` does (TC39 / TypeScript 5 decorators):
const context = { kind: 'method', name: 'get', static: false, private: false, addInitializer() {} }
Users.prototype.get = cache(60, { key: 'user:{0}', metrics })(Users.prototype.get, context)

const users = new Users('u-')
assert.equal(await users.get(1), 'u-1')
assert.equal(await users.get(1), 'u-1')
assert.equal(dbCalls, 1)
console.log(`users.get(1) twice -> "u-1", ${dbCalls} call; \`this\` is kept`)

// The cache name (metrics, default keys) is the method name from the decorator context.
assert.equal(metrics.getStats().caches.get.hits, 1)
assert.equal(Users.prototype.get.key(1), 'user:1')
console.log('metrics name from the decorator context: "get"; Users.prototype.get.key(1) =', Users.prototype.get.key(1))

// One cache per decorated method, shared by every instance: put what distinguishes instances in the key.
const other = new Users('other-')
assert.equal(await other.get(1), 'u-1') // same key 'user:1' -> the entry cached for `users`
console.log('another instance with the same key shares the entry: other.get(1) ->', await other.get(1))

// Legacy (experimentalDecorators) form: (target, propertyKey, descriptor) -> descriptor.
class Orders {
  async byId(id) {
    return { id, loadedAt: Date.now() }
  }
}
const descriptor = Object.getOwnPropertyDescriptor(Orders.prototype, 'byId')
Object.defineProperty(Orders.prototype, 'byId', cache(60)(Orders.prototype, 'byId', descriptor))
const orders = new Orders()
assert.equal(await orders.byId(5), await orders.byId(5))
assert.equal(Orders.prototype.byId.key(5), 'Orders.byId(5)')
console.log('legacy decorator form works too; default key:', Orders.prototype.byId.key(5))

// Decorating anything but a method is refused.
assert.throws(() => cache(60)(() => 1, { kind: 'getter', name: 'x' }), TypeError)
console.log('\ndecorator.mjs: OK')
