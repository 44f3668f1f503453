/**
 * Parameter names and default values of a function, read from its source text
 * (`Function.prototype.toString`). Key templates use them to resolve `{id}` placeholders.
 * This runs once per decorated function, never on the call path, so clarity beats speed here.
 */

/** A parameter's default value: parsed when it is a literal, otherwise kept as source text. */
export type DefaultValue =
  | { kind: 'literal'; value: unknown }
  /** Not a literal (`{}`, `Date.now()`, `a + 1`): it cannot be evaluated outside the function. */
  | { kind: 'expression'; text: string }

/** What {@link parseParams} found. */
export interface ParsedParams {
  /**
   * Positional (non-rest) parameter names in order; `undefined` where the parameter is a
   * destructuring pattern (`{ a, b }`, `[x]`).
   */
  names: (string | undefined)[]
  /** The default value of each positional parameter, `undefined` when it has none. */
  defaults: (DefaultValue | undefined)[]
  /** Whether the last parameter is a rest parameter (`...args`). It is not in `names`. */
  hasRest: boolean
  /** The rest parameter's name, when it has one (not a pattern). */
  restName?: string
  /**
   * `true` when the source does not show the parameters (bound and native functions, classes,
   * anything unparsable); then `names` and `defaults` are empty and nothing is known.
   */
  unknown: boolean
}

const UNKNOWN: ParsedParams = Object.freeze({
  names: Object.freeze([]) as unknown as (string | undefined)[],
  defaults: Object.freeze([]) as unknown as (DefaultValue | undefined)[],
  hasRest: false,
  unknown: true,
}) as ParsedParams

const cache = new WeakMap<Function, ParsedParams>()

/**
 * Read the parameters of `fn` from its source: function declarations and expressions, async
 * functions, generators, arrow functions, class and object methods (including getters, `#private`,
 * computed and quoted names). Bound and native functions (`function () { [native code] }`) and
 * classes give `unknown: true`. The result is cached per function and must not be mutated.
 *
 * @example
 * parseParams(async function get(id, opts = {}, ...rest) {})
 * // { names: ['id', 'opts'], defaults: [undefined, { kind: 'expression', text: '{}' }],
 * //   hasRest: true, restName: 'rest', unknown: false }
 * parseParams(({ a }, b = 2) => a + b)
 * // { names: [undefined, 'b'], defaults: [undefined, { kind: 'literal', value: 2 }], hasRest: false, unknown: false }
 */
export function parseParams(fn: Function): ParsedParams {
  let parsed = cache.get(fn)
  if (parsed === undefined) {
    let src: string
    try {
      src = Function.prototype.toString.call(fn)
    } catch {
      return UNKNOWN // a revoked proxy, for instance
    }
    try {
      parsed = parseSource(src)
    } catch {
      parsed = UNKNOWN // never let an exotic source text break decoration
    }
    cache.set(fn, parsed)
  }
  return parsed
}

/**
 * Parse the parameters from a function's source text (what `fn.toString()` returns); the
 * uncached core of {@link parseParams}.
 *
 * @example
 * parseSource('async get(id, opts = {}) {}').names   // ['id', 'opts']
 */
export function parseSource(src: string): ParsedParams {
  if (/\{\s*\[native code\]\s*\}\s*$/.test(src)) return UNKNOWN
  let i = skipTrivia(src, 0)
  if (/^class(?![\p{ID_Continue}$])/u.test(src.slice(i))) return UNKNOWN

  // Walk the head (`async function* name`, `static async get`, `[computed]`, `'quoted'`) up to
  // the parameter list's `(`, or up to `=>` for a single-parameter arrow (`a => …`).
  let lastIdent: string | undefined
  while (i < src.length) {
    const c = src[i]
    if (c === '(') return parseList(src.slice(i + 1, skipBalanced(src, i) - 1))
    if (c === '=' && src[i + 1] === '>') {
      if (lastIdent === undefined) return UNKNOWN
      return { names: [lastIdent], defaults: [undefined], hasRest: false, unknown: false }
    }
    if (c === '[') i = skipBalanced(src, i)
    else if (c === '"' || c === "'") i = skipQuoted(src, i)
    else if (c === '/' && (src[i + 1] === '/' || src[i + 1] === '*')) i = skipComment(src, i)
    else if (c === '{' || c === '`') return UNKNOWN
    else if (isIdentChar(c)) {
      const start = i
      while (i < src.length && isIdentChar(src[i])) i++
      lastIdent = src.slice(start, i)
    } else i++
  }
  return UNKNOWN
}

function parseList(inner: string): ParsedParams {
  const out: ParsedParams = { names: [], defaults: [], hasRest: false, unknown: false }
  for (const raw of splitTopLevel(inner)) {
    let text = raw.trim()
    if (text === '') continue // trailing comma
    const rest = text.startsWith('...')
    if (rest) text = text.slice(3).trim()
    const eq = indexOfTopLevelEquals(text)
    const pattern = (eq === -1 ? text : text.slice(0, eq)).trim()
    const name = IDENT_RE.test(pattern) ? pattern : undefined
    if (rest) {
      out.hasRest = true
      if (name !== undefined) out.restName = name
      break // a rest parameter is always last
    }
    out.names.push(name)
    out.defaults.push(eq === -1 ? undefined : parseDefault(text.slice(eq + 1).trim()))
  }
  return out
}

const IDENT_RE = /^[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*$/u
const IDENT_CHAR_RE = /[\p{ID_Continue}$\u200c\u200d#]/u

function isIdentChar(c: string): boolean {
  return IDENT_CHAR_RE.test(c)
}

// ---------------------------------------------------------------------------------------------
// Literal defaults

const NUMBER_RE =
  /^(?:(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?|0[xX][\da-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+)$/
const BIGINT_RE = /^(?:\d[\d_]*|0[xX][\da-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+)n$/

const KEYWORD_LITERALS: Record<string, unknown> = {
  true: true,
  false: false,
  null: null,
  undefined: undefined,
  'void 0': undefined,
  NaN: NaN,
  Infinity: Infinity,
}

/**
 * Parse a default's source text: a literal (number, string without `${`, bigint, `true`, `false`,
 * `null`, `undefined`, `NaN`, `Infinity`) gives its value, anything else stays text.
 *
 * @example
 * parseDefault("'eu'")        // { kind: 'literal', value: 'eu' }
 * parseDefault('Date.now()')  // { kind: 'expression', text: 'Date.now()' }
 */
export function parseDefault(text: string): DefaultValue {
  if (Object.hasOwn(KEYWORD_LITERALS, text)) return { kind: 'literal', value: KEYWORD_LITERALS[text] }
  let sign = 1
  let body = text
  if (body[0] === '-' || body[0] === '+') {
    sign = body[0] === '-' ? -1 : 1
    body = body.slice(1).trim()
  }
  if (body === 'Infinity') return { kind: 'literal', value: sign * Infinity }
  if (NUMBER_RE.test(body)) {
    // Legacy octal-looking literals (`010`) are a syntax error in strict code; leave them alone.
    if (!/^0\d/.test(body)) return { kind: 'literal', value: sign * Number(body.replace(/_/g, '')) }
  }
  if (BIGINT_RE.test(body)) {
    const n = BigInt(body.slice(0, -1).replace(/_/g, ''))
    return { kind: 'literal', value: sign < 0 ? -n : n }
  }
  if (sign === 1 && body === text) {
    const q = text[0]
    if ((q === '"' || q === "'") && skipQuoted(text, 0) === text.length && text.length >= 2) {
      return { kind: 'literal', value: unescape(text.slice(1, -1)) }
    }
    if (q === '`' && skipTemplate(text, 0) === text.length && text.length >= 2 && !hasSubstitution(text)) {
      return { kind: 'literal', value: unescape(text.slice(1, -1).replace(/\r\n?/g, '\n')) }
    }
  }
  return { kind: 'expression', text }
}

function hasSubstitution(template: string): boolean {
  for (let i = 1; i < template.length - 1; i++) {
    if (template[i] === '\\') i++
    else if (template[i] === '$' && template[i + 1] === '{') return true
  }
  return false
}

const SIMPLE_ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', v: '\v' }

/** The cooked value of a string literal's body (between the quotes). */
function unescape(body: string): string {
  if (!body.includes('\\')) return body
  let out = ''
  for (let i = 0; i < body.length; i++) {
    const c = body[i]
    if (c !== '\\') {
      out += c
      continue
    }
    const e = body[++i]
    if (e === undefined) break
    if (Object.hasOwn(SIMPLE_ESCAPES, e)) out += SIMPLE_ESCAPES[e]
    else if (e === '0' && !/\d/.test(body[i + 1] ?? '')) out += '\0'
    else if (e === 'x') {
      out += String.fromCharCode(parseInt(body.slice(i + 1, i + 3), 16))
      i += 2
    } else if (e === 'u' && body[i + 1] === '{') {
      const end = body.indexOf('}', i)
      out += String.fromCodePoint(parseInt(body.slice(i + 2, end), 16))
      i = end
    } else if (e === 'u') {
      out += String.fromCharCode(parseInt(body.slice(i + 1, i + 5), 16))
      i += 4
    } else if (e === '\r') {
      if (body[i + 1] === '\n') i++ // line continuation
    } else if (e === '\n' || e === '\u2028' || e === '\u2029') {
      // line continuation: nothing
    } else out += e
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// Scanning. These helpers skip over strings, template literals, comments, regular expressions
// and bracketed groups, so that commas and `=` inside default values are not taken as separators.

function skipTrivia(s: string, i: number): number {
  for (;;) {
    while (i < s.length && /\s/.test(s[i])) i++
    if (s[i] === '/' && (s[i + 1] === '/' || s[i + 1] === '*')) i = skipComment(s, i)
    else return i
  }
}

function skipComment(s: string, i: number): number {
  if (s[i + 1] === '/') {
    const end = s.indexOf('\n', i)
    return end === -1 ? s.length : end + 1
  }
  const end = s.indexOf('*/', i + 2)
  return end === -1 ? s.length : end + 2
}

function skipQuoted(s: string, i: number): number {
  const q = s[i]
  for (i++; i < s.length; i++) {
    if (s[i] === '\\') i++
    else if (s[i] === q) return i + 1
  }
  return s.length
}

function skipTemplate(s: string, i: number): number {
  for (i++; i < s.length; i++) {
    const c = s[i]
    if (c === '\\') i++
    else if (c === '`') return i + 1
    else if (c === '$' && s[i + 1] === '{') i = skipBalanced(s, i + 1) - 1
  }
  return s.length
}

function skipRegex(s: string, i: number): number {
  let inClass = false
  for (i++; i < s.length; i++) {
    const c = s[i]
    if (c === '\\') i++
    else if (c === '[') inClass = true
    else if (c === ']') inClass = false
    else if (c === '/' && !inClass) {
      i++
      break
    } else if (c === '\n') break
  }
  while (i < s.length && /[a-z]/i.test(s[i])) i++
  return i
}

// After one of these (or at the start), `/` starts a regular expression rather than a division.
const REGEX_PREV = new Set(['', '(', ',', '=', ':', '[', '!', '&', '|', '?', '{', '}', ';', '+', '-', '*', '%', '<', '>', '~', '^'])

/**
 * Visit `s` from `i`, calling `visit(index, char, depth)` for every character outside strings,
 * templates, comments and regexes (those are skipped; `visit` receives their first index with
 * char `'"'`, and comments with char `' '`). Stops when `visit` returns `true` or when an unmatched
 * closing bracket ends the region; returns the index where it stopped.
 */
function walk(s: string, i: number, visit: (index: number, c: string, depth: number) => boolean | void): number {
  let depth = 0
  let prev = ''
  while (i < s.length) {
    const c = s[i]
    if (c === '"' || c === "'" || c === '`') {
      if (visit(i, '"', depth) === true) return i
      i = c === '`' ? skipTemplate(s, i) : skipQuoted(s, i)
      prev = 'a'
      continue
    }
    if (c === '/' && (s[i + 1] === '/' || s[i + 1] === '*')) {
      if (visit(i, ' ', depth) === true) return i
      i = skipComment(s, i)
      continue
    }
    if (c === '/' && REGEX_PREV.has(prev)) {
      if (visit(i, '"', depth) === true) return i
      i = skipRegex(s, i)
      prev = 'a'
      continue
    }
    if (c === ')' || c === ']' || c === '}') {
      if (depth === 0) return i
      depth--
    }
    if (visit(i, c, depth) === true) return i
    if (c === '(' || c === '[' || c === '{') depth++
    if (!/\s/.test(c)) prev = /[\p{ID_Continue}$.)\]]/u.test(c) ? 'a' : c
    i++
  }
  return i
}

/** `s[i]` is an opening bracket; the index just after its matching closing bracket. */
function skipBalanced(s: string, i: number): number {
  return walk(s, i + 1, () => false) + 1
}

/** Split a parameter list at top-level commas; comments become spaces. */
function splitTopLevel(s: string): string[] {
  const parts: string[] = []
  let cur = ''
  let from = 0
  walk(s, 0, (i, c, depth) => {
    if (depth !== 0) return
    if (c === ',') {
      parts.push(cur + s.slice(from, i))
      cur = ''
      from = i + 1
    } else if (c === ' ' && s[i] === '/') {
      cur += s.slice(from, i) + ' '
      from = skipComment(s, i)
    }
  })
  parts.push(cur + s.slice(from))
  return parts
}

/** The index of the `=` separating a parameter from its default, or -1. */
function indexOfTopLevelEquals(s: string): number {
  let found = -1
  walk(s, 0, (i, c, depth) => {
    if (depth === 0 && c === '=' && s[i + 1] !== '>' && s[i + 1] !== '=') {
      found = i
      return true
    }
  })
  return found
}
