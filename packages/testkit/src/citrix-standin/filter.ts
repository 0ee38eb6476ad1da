import { addTicks, compareInstants, type Instant, instantKey, parseInstant } from './time.ts';

/**
 * `$filter` and `$orderby` as the ASP.NET Web API OData server treats them: a typed expression (`and`, `or`,
 * `not`, parentheses, `eq ne gt ge lt le`) checked against the entity's property types before it runs, and
 * an order that always ends with the key. Written apart from the client on purpose: it must not share
 * the client's parser, or the tests would approve the client's own bugs.
 */

/** The primitive types of the Monitor model's properties. */
export type EdmType =
  | 'Edm.Guid'
  | 'Edm.Int32'
  | 'Edm.Int64'
  | 'Edm.String'
  | 'Edm.Boolean'
  | 'Edm.DateTimeOffset';

/** What a query needs to know about an entity set. */
export interface Schema {
  /** Entity set, e.g. 'Sessions'. */
  name: string;
  /** Qualified entity type, named in error messages. */
  typeName: string;
  key: string;
  props: Readonly<Record<string, EdmType>>;
}

/** A query the stand-in rejects with 400 and an OData error naming the problem. */
export class QueryError extends Error {
  override name = 'QueryError';
}

export type Row = Record<string, unknown>;

/**
 * A value in a form that orders like the database orders it: numbers for integers (and booleans as 0/1),
 * fixed-width text for instants, SQL Server's byte order for Guids, the text itself for strings.
 */
export type Comparable = number | string;

/**
 * A Guid rearranged so that text order is SQL Server's `uniqueidentifier` order. SqlGuid compares the
 * bytes of .NET's `Guid.ToByteArray()` (first three groups little-endian) in the order 10–15, 8–9, 6–7,
 * 4–5, 0–3: that is the last group, the fourth, the third and second byte-swapped, the first reversed.
 */
export function sqlGuidKey(text: string): string {
  const g = text.toLowerCase();
  return (
    g.slice(24, 36) +
    g.slice(19, 23) +
    g.slice(16, 18) +
    g.slice(14, 16) +
    g.slice(11, 13) +
    g.slice(9, 11) +
    g.slice(6, 8) +
    g.slice(4, 6) +
    g.slice(2, 4) +
    g.slice(0, 2)
  );
}

type Kind = 'DateTimeOffset' | 'Guid' | 'Number' | 'String' | 'Boolean' | 'Null';

const KIND: Record<EdmType, Kind> = {
  'Edm.Guid': 'Guid',
  'Edm.Int32': 'Number',
  'Edm.Int64': 'Number',
  'Edm.String': 'String',
  'Edm.Boolean': 'Boolean',
  'Edm.DateTimeOffset': 'DateTimeOffset',
};

/** A row's value as a Comparable (null stays null). */
export function toComparable(type: EdmType, value: unknown): Comparable | null {
  if (value === null || value === undefined) return null;
  switch (KIND[type]) {
    case 'DateTimeOffset': {
      const at = parseInstant(String(value));
      return at ? instantKey(at) : String(value);
    }
    case 'Guid':
      return sqlGuidKey(String(value));
    case 'Boolean':
      return value ? 1 : 0;
    case 'Number':
      return Number(value);
    default:
      return String(value);
  }
}

export type Op = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';
const OPS = new Set<string>(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);
const isOp = (word: string): word is Op => OPS.has(word);
const OP_KIND: Record<Op | 'and' | 'or', string> = {
  eq: 'Equal',
  ne: 'NotEqual',
  gt: 'GreaterThan',
  ge: 'GreaterThanOrEqual',
  lt: 'LessThan',
  le: 'LessThanOrEqual',
  and: 'And',
  or: 'Or',
};
// OData operators the stand-in does not implement: named as such rather than as a syntax error.
const OTHER_OPS = new Set(['has', 'in', 'add', 'sub', 'mul', 'div', 'divby', 'mod']);
const FLIP: Record<Op, Op> = { eq: 'eq', ne: 'ne', gt: 'lt', ge: 'le', lt: 'gt', le: 'ge' };

interface Base {
  kind: Kind;
  /** The EDM type named in messages. */
  edm: string;
}
/** A parsed, type-checked `$filter` node. */
export type Node =
  | (Base & { t: 'prop'; name: string; type: EdmType })
  | (Base & { t: 'lit'; value: Comparable | null; instant?: Instant; text: string })
  | (Base & { t: 'cmp'; op: Op; l: Node; r: Node })
  | (Base & { t: 'and' | 'or'; l: Node; r: Node })
  | (Base & { t: 'not'; e: Node });

interface Token {
  text: string;
  at: number;
  type: 'punct' | 'word' | 'string' | 'guid' | 'date' | 'number';
}

const GUID = /[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![\w-])/y;
const DATE = /\d{4}-\d{2}-\d{2}(?:T[0-9:.]*(?:[Zz]|[+-]\d{2}:\d{2})?)?(?![\w.:-])/y;
const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w.])/y;
const WORD = /[A-Za-z_][A-Za-z0-9_]*/y;

/** The string literal opening at `at` (a doubled quote stands for one), and where it ends. */
function stringLiteral(
  text: string,
  at: number,
  fail: (at: number, why: string) => never,
): { value: string; end: number } {
  let end = at + 1;
  let value = '';
  for (;;) {
    const q = text.indexOf("'", end);
    if (q < 0) return fail(at, 'unterminated string literal');
    value += text.slice(end, q);
    if (text[q + 1] !== "'") return { value, end: q + 1 };
    value += "'";
    end = q + 2;
  }
}

function lex(text: string, fail: (at: number, why: string) => never): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  const take = (re: RegExp, type: Token['type']): boolean => {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) return false;
    tokens.push({ text: m[0], at, type });
    at += m[0].length;
    return true;
  };
  while (at < text.length) {
    const ch = text[at] ?? '';
    if (/\s/.test(ch)) {
      at++;
    } else if (ch === '(' || ch === ')' || ch === ',') {
      tokens.push({ text: ch, at, type: 'punct' });
      at++;
    } else if (ch === "'") {
      const { value, end } = stringLiteral(text, at, fail);
      tokens.push({ text: value, at, type: 'string' });
      at = end;
    } else if (!take(GUID, 'guid') && !take(DATE, 'date') && !take(NUMBER, 'number') && !take(WORD, 'word')) {
      fail(at, `unexpected character '${ch}'`);
    }
  }
  return tokens;
}

/** A parsed `$filter`. */
export interface Filter {
  text: string;
  root: Node;
}

/** Parses and type-checks a `$filter` against an entity. Throws QueryError. */
export function parseFilter(text: string, schema: Schema): Filter {
  return new FilterParser(text, schema).parse();
}

const BOOLEAN = { kind: 'Boolean', edm: 'Edm.Boolean' } as const;

/** Two operands and the operator between them, before they are a node. */
interface Operation<O extends Op | 'and' | 'or'> {
  l: Node;
  op: O;
  r: Node;
}

function incompatible({ l, r, op }: Operation<Op | 'and' | 'or'>, hint = ''): never {
  throw new QueryError(
    `A binary operator with incompatible types was detected. Found operand types '${l.edm}' and '${r.edm}' for operator kind '${OP_KIND[op]}'.${hint}`,
  );
}

/** Type-checks `l op r`: null only with eq and ne, both sides of one kind, Booleans only with eq and ne. */
function checkComparison({ l, op, r }: Operation<Op>, text: string): void {
  const kinds = new Set([l.kind, r.kind]);
  if (kinds.has('Null')) {
    if (op !== 'eq' && op !== 'ne') {
      throw new QueryError(
        `The operator '${op}' cannot compare with null: only eq and ne can (in '${text}').`,
      );
    }
  } else if (kinds.size > 1) {
    const quoted = kinds.has('String') && (kinds.has('Guid') || kinds.has('DateTimeOffset'));
    incompatible({ l, r, op }, quoted ? ' Guid and DateTimeOffset literals are written unquoted.' : '');
  } else if (l.kind === 'Boolean' && op !== 'eq' && op !== 'ne') {
    incompatible({ l, r, op }, ' Booleans only compare with eq and ne.');
  }
}

/**
 * A recursive-descent parser of `$filter`, one method per rule, loosest binding first:
 * or := and ('or' and)*; and := comparison ('and' comparison)*; comparison := unary (op unary)*;
 * unary := 'not' unary | primary; primary := '(' or ')' | literal | property.
 */
class FilterParser {
  private readonly text: string;
  private readonly schema: Schema;
  private readonly tokens: Token[];
  private pos = 0;

  constructor(text: string, schema: Schema) {
    this.text = text;
    this.schema = schema;
    this.tokens = lex(text, (at, why) => this.fail(at, why));
  }

  parse(): Filter {
    if (this.tokens.length === 0) this.fail(0, 'the expression is empty');
    const root = this.or();
    const rest = this.peek();
    if (rest) this.fail(rest.at, `unexpected '${rest.text}'`);
    if (root.kind !== 'Boolean')
      throw new QueryError('The $filter expression must evaluate to a single boolean value.');
    return { text: this.text, root };
  }

  private fail(at: number, why: string): never {
    throw new QueryError(`Syntax error at position ${at} in '${this.text}': ${why}.`);
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private or(): Node {
    return this.chain('or', () => this.and());
  }

  private and(): Node {
    return this.chain('and', () => this.comparison());
  }

  /** operand (word operand)*, both sides Boolean. */
  private chain(word: 'and' | 'or', operand: () => Node): Node {
    let l = operand();
    while (this.peek()?.text === word) {
      this.pos++;
      const r = operand();
      if (l.kind !== 'Boolean' || r.kind !== 'Boolean') incompatible({ l, r, op: word });
      l = { t: word, ...BOOLEAN, l, r };
    }
    return l;
  }

  private comparison(): Node {
    let l = this.unary();
    for (;;) {
      const tok = this.peek();
      if (tok?.type !== 'word' || tok.text === 'and' || tok.text === 'or') return l;
      const op = this.operator(tok);
      this.pos++;
      const r = this.unary();
      checkComparison({ l, op, r }, this.text);
      l = { t: 'cmp', ...BOOLEAN, op, l, r };
    }
  }

  /** The comparison operator a word names; other OData operators are named as unsupported. */
  private operator(tok: Token): Op {
    const word = tok.text;
    if (OTHER_OPS.has(word)) {
      throw new QueryError(`The operator '${word}' is not supported by the stand-in (in '${this.text}').`);
    }
    if (!isOp(word)) {
      return this.fail(tok.at, `'${word}' is not an operator (expected eq, ne, gt, ge, lt, le, and, or)`);
    }
    return word;
  }

  private unary(): Node {
    if (this.peek()?.text !== 'not') return this.primary();
    this.pos++;
    const e = this.unary();
    if (e.kind !== 'Boolean') {
      throw new QueryError(
        `A unary operator with an incompatible type was detected. Found operand type '${e.edm}' for operator kind 'Not' ('not' applies to the operand right after it: write not (A eq B)).`,
      );
    }
    return { t: 'not', ...BOOLEAN, e };
  }

  private primary(): Node {
    const tok = this.peek();
    if (!tok) return this.fail(this.text.length, 'an operand was expected, found the end of the expression');
    this.pos++;
    if (tok.text === '(') return this.group();
    if (tok.type === 'punct') return this.fail(tok.at, `an operand was expected, found '${tok.text}'`);
    if (tok.type !== 'word') return this.literal(tok);
    return this.word(tok);
  }

  /** The rest of a parenthesized expression, after its '('. */
  private group(): Node {
    const inner = this.or();
    if (this.peek()?.text !== ')') this.fail(this.peek()?.at ?? this.text.length, "')' expected");
    this.pos++;
    return inner;
  }

  /** A word in operand position: null, true, false or a property of the entity. */
  private word(tok: Token): Node {
    const word = tok.text;
    if (OPS.has(word) || OTHER_OPS.has(word) || word === 'and' || word === 'or') {
      this.fail(tok.at, `an operand was expected, found '${word}'`);
    }
    if (word === 'null') return { t: 'lit', kind: 'Null', edm: 'null', value: null, text: word };
    if (word === 'true' || word === 'false') {
      return { t: 'lit', ...BOOLEAN, value: word === 'true' ? 1 : 0, text: word };
    }
    this.rejectNonProperty(tok);
    const type = this.schema.props[word];
    if (!type)
      throw new QueryError(`Could not find a property named '${word}' on type '${this.schema.typeName}'.`);
    return { t: 'prop', kind: KIND[type], edm: type, name: word, type };
  }

  /** A word followed by a quote, a '(' or a '/': a v3 literal, a function call or a navigation path. */
  private rejectNonProperty(tok: Token): void {
    const word = tok.text;
    const next = this.tokens[this.pos];
    if (next?.type === 'string' && next.at === tok.at + word.length) {
      this.fail(
        tok.at,
        `${word}'${next.text.replaceAll("'", "''")}' is not an OData v4 literal (Guid and DateTimeOffset literals are unquoted)`,
      );
    }
    if (next?.text === '(') {
      throw new QueryError(`The function '${word}' is not supported by the stand-in (in '${this.text}').`);
    }
    if (this.text[tok.at + word.length] === '/')
      this.fail(tok.at, `navigation paths such as '${word}/…' are not supported`);
  }

  private literal(tok: Token): Node {
    if (tok.type === 'string')
      return { t: 'lit', kind: 'String', edm: 'Edm.String', value: tok.text, text: tok.text };
    if (tok.type === 'guid') {
      return { t: 'lit', kind: 'Guid', edm: 'Edm.Guid', value: sqlGuidKey(tok.text), text: tok.text };
    }
    if (tok.type === 'date') return this.dateLiteral(tok);
    return this.numberLiteral(tok);
  }

  private dateLiteral(tok: Token): Node {
    const instant = parseInstant(tok.text);
    if (!instant) {
      throw new QueryError(
        `Unrecognized 'Edm.DateTimeOffset' literal '${tok.text}' at '${tok.at}' in '${this.text}' (expected e.g. 2026-11-24T10:00:00Z, up to 7 fraction digits).`,
      );
    }
    const value = instantKey(instant);
    return { t: 'lit', kind: 'DateTimeOffset', edm: 'Edm.DateTimeOffset', value, instant, text: tok.text };
  }

  private numberLiteral(tok: Token): Node {
    const n = Number(tok.text);
    const whole = /^-?\d+$/.test(tok.text);
    const edm = !whole ? 'Edm.Double' : Math.abs(n) <= 2 ** 31 ? 'Edm.Int32' : 'Edm.Int64';
    if (whole && !Number.isSafeInteger(n))
      this.fail(tok.at, `the integer literal '${tok.text}' is out of range`);
    return { t: 'lit', kind: 'Number', edm, value: n, text: tok.text };
  }
}

/** A compiled boolean expression over a row. */
export type Predicate = (row: Row) => boolean;
type Getter = (row: Row) => Comparable | null;

function getter(node: Node): Getter {
  if (node.t === 'prop') {
    const { name, type } = node;
    return (row) => toComparable(type, row[name]);
  }
  if (node.t === 'lit') {
    const { value } = node;
    return () => value;
  }
  const p = predicate(node);
  return (row) => (p(row) ? 1 : 0);
}

/** Compiles a boolean node. Comparisons follow C#: null equals only null, and orders before nothing. */
function predicate(node: Node): Predicate {
  switch (node.t) {
    case 'and': {
      const [l, r] = [predicate(node.l), predicate(node.r)];
      return (row) => l(row) && r(row);
    }
    case 'or': {
      const [l, r] = [predicate(node.l), predicate(node.r)];
      return (row) => l(row) || r(row);
    }
    case 'not': {
      const e = predicate(node.e);
      return (row) => !e(row);
    }
    case 'cmp': {
      const [l, r] = [getter(node.l), getter(node.r)];
      switch (node.op) {
        case 'eq':
          return (row) => l(row) === r(row);
        case 'ne':
          return (row) => l(row) !== r(row);
        default: {
          const test = RELATIONS[node.op];
          return (row) => {
            const a = l(row);
            const b = r(row);
            return a !== null && b !== null && test(a, b);
          };
        }
      }
    }
    case 'prop': {
      const { name } = node;
      return (row) => row[name] === true;
    }
    case 'lit':
      return node.value === 1 ? () => true : () => false;
  }
}

const RELATIONS: Record<'gt' | 'ge' | 'lt' | 'le', (a: Comparable, b: Comparable) => boolean> = {
  gt: (a, b) => a > b,
  ge: (a, b) => a >= b,
  lt: (a, b) => a < b,
  le: (a, b) => a <= b,
};

/** The conjunction of `nodes` as one predicate; null when there is nothing to test. */
export function compile(nodes: readonly Node[]): Predicate | null {
  const preds = nodes.map(predicate);
  if (preds.length === 0) return null;
  if (preds.length === 1) return preds[0] ?? null;
  return (row) => preds.every((p) => p(row));
}

/** One side of a key range. */
export interface KeyBound {
  value: Comparable;
  inclusive: boolean;
}

/**
 * One top-level conjunct of a filter, and what it says about a single property when it is
 * `Property op literal` (either way round): a half-open time range, or a key bound.
 */
export interface Conjunct {
  node: Node;
  prop?: string;
  time?: { lo: Instant | null; hi: Instant | null };
  key?: { lo: KeyBound | null; hi: KeyBound | null };
}

/** Splits a filter into its top-level `and` conjuncts (an index can use those; an `or` it cannot). */
export function conjuncts(filter: Filter | null, schema: Schema): Conjunct[] {
  if (!filter) return [];
  const out: Conjunct[] = [];
  const walk = (n: Node): void => {
    if (n.t === 'and') {
      walk(n.l);
      walk(n.r);
    } else out.push(describe(n, schema));
  };
  walk(filter.root);
  return out;
}

function describe(node: Node, schema: Schema): Conjunct {
  if (node.t !== 'cmp' || node.op === 'ne') return { node };
  const { l, r } = node;
  const [prop, lit, op] =
    l.t === 'prop' && r.t === 'lit'
      ? [l, r, node.op]
      : r.t === 'prop' && l.t === 'lit'
        ? [r, l, FLIP[node.op]]
        : [null, null, node.op];
  const value = lit?.value ?? null;
  if (!prop || !lit || value === null) return { node };
  if (lit.instant) {
    const at = lit.instant;
    const lo = op === 'ge' || op === 'eq' ? at : op === 'gt' ? addTicks(at, 1) : null;
    const hi = op === 'lt' ? at : op === 'le' || op === 'eq' ? addTicks(at, 1) : null;
    return { node, prop: prop.name, time: { lo, hi } };
  }
  if (prop.name !== schema.key) return { node, prop: prop.name };
  const bound = (inclusive: boolean): KeyBound => ({ value, inclusive });
  const lo = op === 'gt' ? bound(false) : op === 'ge' || op === 'eq' ? bound(true) : null;
  const hi = op === 'lt' ? bound(false) : op === 'le' || op === 'eq' ? bound(true) : null;
  return { node, prop: prop.name, key: { lo, hi } };
}

/** Intersects time ranges: the later start and the earlier end. */
export function intersectTime(
  a: { lo: Instant | null; hi: Instant | null },
  b: { lo: Instant | null; hi: Instant | null },
): { lo: Instant | null; hi: Instant | null } {
  const lo = !a.lo ? b.lo : !b.lo ? a.lo : compareInstants(a.lo, b.lo) >= 0 ? a.lo : b.lo;
  const hi = !a.hi ? b.hi : !b.hi ? a.hi : compareInstants(a.hi, b.hi) <= 0 ? a.hi : b.hi;
  return { lo, hi };
}

/** Whether a key value lies within the bounds. */
export function withinKey(v: Comparable, lo: KeyBound | null, hi: KeyBound | null): boolean {
  if (lo && (v < lo.value || (v === lo.value && !lo.inclusive))) return false;
  if (hi && (v > hi.value || (v === hi.value && !hi.inclusive))) return false;
  return true;
}

/** One `$orderby` item. */
export interface OrderItem {
  prop: string;
  type: EdmType;
  desc: boolean;
}

/**
 * Parses `$orderby` and makes the order total the way Web API OData does: the key is appended (asc)
 * unless already there; anything after the key cannot matter and is dropped. No `$orderby` = key order.
 */
export function parseOrderBy(text: string | undefined, schema: Schema): OrderItem[] {
  const items: OrderItem[] = [];
  const seen = new Set<string>();
  for (const part of text === undefined ? [] : text.split(',')) {
    const m = /^\s*([A-Za-z_]\w*)(?:\s+(asc|desc))?\s*$/.exec(part);
    if (!m?.[1])
      throw new QueryError(
        `Syntax error in $orderby '${text}': '${part.trim()}' is not 'Property [asc|desc]'.`,
      );
    const prop = m[1];
    const type = schema.props[prop];
    if (!type)
      throw new QueryError(`Could not find a property named '${prop}' on type '${schema.typeName}'.`);
    if (seen.has(prop))
      throw new QueryError(`Duplicate property named '${prop}' is not supported in '$orderby'.`);
    seen.add(prop);
    items.push({ prop, type, desc: m[2] === 'desc' });
    if (prop === schema.key) return items;
  }
  const keyType = schema.props[schema.key];
  if (!keyType) throw new Error(`${schema.name} has no key property '${schema.key}'`);
  items.push({ prop: schema.key, type: keyType, desc: false });
  return items;
}

/** Compares two Comparables, nulls first (SQL Server sorts NULL lowest). */
export function compareValues(a: Comparable | null, b: Comparable | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}

/** The sort keys of a row for an order. */
export function sortKeys(items: readonly OrderItem[], row: Row): (Comparable | null)[] {
  return items.map((it) => toComparable(it.type, row[it.prop]));
}

/** Compares two rows' sort keys under an order. */
export function compareSortKeys(
  items: readonly OrderItem[],
  a: readonly (Comparable | null)[],
  b: readonly (Comparable | null)[],
): number {
  for (let k = 0; k < items.length; k++) {
    const c = compareValues(a[k] ?? null, b[k] ?? null);
    if (c !== 0) return items[k]?.desc ? -c : c;
  }
  return 0;
}
