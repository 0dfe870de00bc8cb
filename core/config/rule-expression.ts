/**
 * The cross-field rules of a config's `rules:` section (`sqft_above <= sqft_living`, `yr_renovated == 0 or
 * yr_renovated >= yr_built`): a small expression language parsed here, never `eval`ed, because configs come from
 * other people. Grammar, loosest binding first:
 *
 *   expr    := and ('or' and)*
 *   and     := not ('and' not)*
 *   not     := 'not' not | compare
 *   compare := sum (('<=' | '<' | '>=' | '>' | '==' | '!=') sum)?
 *   sum     := product (('+' | '-') product)*
 *   product := unary (('*' | '/') unary)*
 *   unary   := '-' unary | primary
 *   primary := number | 'quoted text' | "quoted text" | column | '(' expr ')'
 *
 * Values are the row's normalized values (numbers, text, ISO dates as text). As in SQL CHECK constraints, a
 * rule that reads a missing value is unknown, and only a rule that is definitely false is broken: a form with
 * the year of renovation left empty is not refused by a rule about renovations.
 */

export type RuleValue = number | string | boolean | null;

type Node =
  | { k: 'num'; v: number }
  | { k: 'str'; v: string }
  | { k: 'col'; name: string }
  | { k: 'neg'; e: Node }
  | { k: 'not'; e: Node }
  | { k: 'bin'; op: '+' | '-' | '*' | '/'; l: Node; r: Node }
  | { k: 'cmp'; op: '<=' | '<' | '>=' | '>' | '==' | '!='; l: Node; r: Node }
  | { k: 'and' | 'or'; l: Node; r: Node };

export interface CompiledRule {
  /** The expression as written. */
  source: string;
  /** The columns it reads, in order of first appearance. */
  columns: string[];
  /** true: kept; false: broken; null: unknown (a value it reads is missing or not comparable). */
  evaluate(values: (column: string) => RuleValue | undefined): boolean | null;
}

/** A rule that cannot be parsed; `position` is the 0-based character offset the problem was found at. */
export class RuleSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
    this.name = 'RuleSyntaxError';
  }
}

const MAX_LENGTH = 500;
const MAX_DEPTH = 32;
type Token = { t: 'num' | 'str' | 'id' | 'op' | 'end'; v: string; at: number };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (/[0-9.]/.test(c)) {
      const m = /^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(src.slice(i));
      if (!m) throw new RuleSyntaxError(`"${c}" does not start a number`, i);
      out.push({ t: 'num', v: m[0], at: start });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      out.push({ t: 'id', v: m[0], at: start });
      i += m[0].length;
    } else if (c === '"' || c === "'") {
      const end = src.indexOf(c, i + 1);
      if (end < 0) throw new RuleSyntaxError(`the text started with ${c} is not closed`, i);
      out.push({ t: 'str', v: src.slice(i + 1, end), at: start });
      i = end + 1;
    } else {
      const two = src.slice(i, i + 2);
      if (['<=', '>=', '==', '!='].includes(two)) {
        out.push({ t: 'op', v: two, at: start });
        i += 2;
      } else if ('<>+-*/()'.includes(c)) {
        out.push({ t: 'op', v: c, at: start });
        i++;
      } else if (c === '=') {
        throw new RuleSyntaxError('use == to compare (a single = is not an operator here)', i);
      } else {
        throw new RuleSyntaxError(
          `"${c}" is not part of the rule language (use columns, numbers, quoted text, + - * /, comparisons, and, or, not, parentheses)`,
          i,
        );
      }
    }
  }
  out.push({ t: 'end', v: '', at: src.length });
  return out;
}

class Parser {
  private i = 0;
  private depth = 0;
  readonly columns: string[] = [];
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.i];
  }
  private isWord(w: string): boolean {
    const t = this.peek();
    return t.t === 'id' && t.v.toLowerCase() === w;
  }
  private isOp(...ops: string[]): boolean {
    const t = this.peek();
    return t.t === 'op' && ops.includes(t.v);
  }

  parseAll(): Node {
    const e = this.expr();
    const t = this.peek();
    if (t.t !== 'end') throw new RuleSyntaxError(`unexpected "${t.v}" after a complete rule`, t.at);
    return e;
  }

  private nested<T>(f: () => T): T {
    if (++this.depth > MAX_DEPTH) throw new RuleSyntaxError(`the rule nests more than ${MAX_DEPTH} levels deep`, this.peek().at);
    try {
      return f();
    } finally {
      this.depth--;
    }
  }

  private expr(): Node {
    return this.nested(() => {
      let l = this.and();
      while (this.isWord('or')) {
        this.i++;
        l = { k: 'or', l, r: this.and() };
      }
      return l;
    });
  }
  private and(): Node {
    let l = this.not();
    while (this.isWord('and')) {
      this.i++;
      l = { k: 'and', l, r: this.not() };
    }
    return l;
  }
  private not(): Node {
    if (this.isWord('not')) {
      this.i++;
      return this.nested(() => ({ k: 'not', e: this.not() }));
    }
    return this.compare();
  }
  private compare(): Node {
    const l = this.sum();
    if (this.isOp('<=', '<', '>=', '>', '==', '!=')) {
      const op = this.tokens[this.i++].v as '<=' | '<' | '>=' | '>' | '==' | '!=';
      const r = this.sum();
      if (this.isOp('<=', '<', '>=', '>', '==', '!=')) throw new RuleSyntaxError('chain comparisons with "and" (a <= b and b <= c)', this.peek().at);
      return { k: 'cmp', op, l, r };
    }
    return l;
  }
  private sum(): Node {
    let l = this.product();
    while (this.isOp('+', '-')) {
      const op = this.tokens[this.i++].v as '+' | '-';
      l = { k: 'bin', op, l, r: this.product() };
    }
    return l;
  }
  private product(): Node {
    let l = this.unary();
    while (this.isOp('*', '/')) {
      const op = this.tokens[this.i++].v as '*' | '/';
      l = { k: 'bin', op, l, r: this.unary() };
    }
    return l;
  }
  private unary(): Node {
    if (this.isOp('-')) {
      this.i++;
      return this.nested(() => ({ k: 'neg', e: this.unary() }));
    }
    return this.primary();
  }
  private primary(): Node {
    const t = this.peek();
    if (t.t === 'num') {
      this.i++;
      return { k: 'num', v: Number(t.v) };
    }
    if (t.t === 'str') {
      this.i++;
      return { k: 'str', v: t.v };
    }
    if (t.t === 'id') {
      if (['and', 'or', 'not'].includes(t.v.toLowerCase())) throw new RuleSyntaxError(`"${t.v}" needs a value before it`, t.at);
      this.i++;
      if (!this.columns.includes(t.v)) this.columns.push(t.v);
      return { k: 'col', name: t.v };
    }
    if (t.t === 'op' && t.v === '(') {
      this.i++;
      const e = this.expr();
      if (!this.isOp(')')) throw new RuleSyntaxError('a "(" is not closed', this.peek().at);
      this.i++;
      return e;
    }
    throw new RuleSyntaxError(t.t === 'end' ? 'the rule ends where a value is expected' : `"${t.v}" where a value is expected`, t.at);
  }
}

type Value = number | string | boolean | null;

function evaluateNode(n: Node, get: (c: string) => RuleValue | undefined): Value {
  switch (n.k) {
    case 'num':
    case 'str':
      return n.v;
    case 'col': {
      const v = get(n.name);
      return v === undefined ? null : v;
    }
    case 'neg': {
      const v = evaluateNode(n.e, get);
      return typeof v === 'number' ? -v : null;
    }
    case 'not': {
      const v = evaluateNode(n.e, get);
      return typeof v === 'boolean' ? !v : null;
    }
    case 'bin': {
      const l = evaluateNode(n.l, get);
      const r = evaluateNode(n.r, get);
      if (typeof l !== 'number' || typeof r !== 'number') return null;
      const v = n.op === '+' ? l + r : n.op === '-' ? l - r : n.op === '*' ? l * r : l / r;
      return Number.isFinite(v) ? v : null;
    }
    case 'cmp': {
      const l = evaluateNode(n.l, get);
      const r = evaluateNode(n.r, get);
      if (l === null || r === null || typeof l === 'boolean' || typeof r === 'boolean') return null;
      // Text compares with text (ISO dates order correctly as text); a number with text is unknown.
      if (typeof l !== typeof r) return null;
      switch (n.op) {
        case '<=':
          return l <= r;
        case '<':
          return l < r;
        case '>=':
          return l >= r;
        case '>':
          return l > r;
        case '==':
          return l === r;
        case '!=':
          return l !== r;
      }
      return null;
    }
    case 'and': {
      // Three-valued: false wins over unknown.
      const l = evaluateNode(n.l, get);
      const r = evaluateNode(n.r, get);
      if (l === false || r === false) return false;
      return l === true && r === true ? true : null;
    }
    case 'or': {
      const l = evaluateNode(n.l, get);
      const r = evaluateNode(n.r, get);
      if (l === true || r === true) return true;
      return l === false && r === false ? false : null;
    }
  }
}

/** Parses a rule; throws RuleSyntaxError saying what is wrong and where. */
export function compileRule(source: string): CompiledRule {
  if (source.length > MAX_LENGTH) throw new RuleSyntaxError(`a rule is at most ${MAX_LENGTH} characters`, MAX_LENGTH);
  const parser = new Parser(tokenize(source));
  const root = parser.parseAll();
  if (root.k !== 'cmp' && root.k !== 'and' && root.k !== 'or' && root.k !== 'not') {
    throw new RuleSyntaxError('a rule must be a comparison (e.g. sqft_above <= sqft_living), not just a value', 0);
  }
  return {
    source,
    columns: parser.columns,
    evaluate: (get) => {
      const v = evaluateNode(root, get);
      return typeof v === 'boolean' ? v : null;
    },
  };
}
