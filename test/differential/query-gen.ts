/**
 * Random cacheable-looking queries over two tables `t` and `u` (each with `id`, the join column
 * `k` and the text column `s` of one collation): point lookups, IN lists, constant predicates,
 * aggregates with GROUP BY and HAVING, ORDER BY with and without LIMIT, DISTINCT, joins (inner,
 * left, semi, derived) and UNION. Each comes with what a comparison may rely on: which output
 * columns an ORDER BY decides, and which ones MariaDB may spell either way (a `_ci` value chosen
 * by GROUP BY, DISTINCT, UNION, MIN or MAX among equal spellings).
 */
import type { Gap } from './gaps.js';
import { coarseFold } from './compare.js';
import { hasSpellings, int, isCi, isNumeric, isTemporal, isText, pick, type Col, type Rnd, type Table } from './schema-gen.js';

export interface Param {
  readonly table: Table;
  readonly col: Col;
}

export interface Query {
  readonly shape: string;
  readonly sql: string;
  readonly params: ReadonlyArray<Param>;
  /** Output positions of the ORDER BY terms, in order (all selected), or null when unordered. */
  readonly order: ReadonlyArray<number> | null;
  /** LIMIT: rows before the first one shown (ties at both ends are not determined). */
  readonly limit: { readonly offset: number } | null;
  /** Per output column: the spelling MariaDB shows among collation-equal values is not defined. */
  readonly fold: ReadonlyArray<boolean>;
}

interface Out {
  readonly expr: string;
  readonly fold: boolean;
}

const q = (c: Col, alias?: string) => (alias ? `${alias}.\`${c.name}\`` : `\`${c.name}\``);

export class QueryGen {
  constructor(private readonly rnd: Rnd, private readonly t: Table, private readonly u: Table, private readonly avoid: ReadonlySet<Gap>) {}

  /**
   * A column may be ordered by without tripping an avoided gap: in ORDER BY (`order`), or by
   * MIN/MAX and <, >, BETWEEN (`compare`: MariaDB compares an ENUM there as its text).
   */
  canOrder(c: Col, role: 'order' | 'compare' = 'order'): boolean {
    if (c.kind === 'enum' && role === 'order' && this.avoid.has('order-enum')) return false;
    if (c.kind === 'time' && this.avoid.has('order-time')) return false;
    if (c.kind === 'decimal' && c.big && this.avoid.has('order-big-decimal')) return false;
    return true;
  }

  /** A column a parameter may be on: the planner refuses FLOAT/DOUBLE; DATETIME/TIME (and BIT) parameters always go upstream. */
  keyable(c: Col): boolean {
    return c.kind !== 'float' && c.kind !== 'double' && c.kind !== 'datetime' && c.kind !== 'time';
  }

  /** A column whose value may pass through MariaDB's temporary table (MIN/MAX, GROUP BY, DISTINCT, UNION) without tripping an avoided gap. */
  tempOk(c: Col): boolean {
    return c.kind !== 'bit' || !this.avoid.has('bit-temporary');
  }

  /** One random query; the shape is chosen by weight. */
  next(): Query {
    const shapes: Array<[number, () => Query]> = [
      [4, () => this.point(false)], [2, () => this.point(true)], [2, () => this.constant()], [5, () => this.aggregate()],
      [3, () => this.topK()], [1, () => this.aggregateTopK()], [2, () => this.distinct()], [3, () => this.join()],
      [1, () => this.joinAggregate()], [1, () => this.semiJoin()], [1, () => this.derived()], [2, () => this.union()],
    ];
    let r = this.rnd() * shapes.reduce((a, [w]) => a + w, 0);
    for (const [w, f] of shapes) if ((r -= w) < 0) return f();
    return shapes[0][1]();
  }

  private cols(t: Table, f: (c: Col) => boolean = () => true): Col[] {
    return t.cols.filter(f);
  }

  private someCols(t: Table, n: number, alias?: string): Out[] {
    const cs = [...t.cols].sort(() => this.rnd() - 0.5).slice(0, n);
    return cs.map((c) => ({ expr: q(c, alias), fold: false }));
  }

  private paramCol(t: Table): Col {
    return pick(this.rnd, this.cols(t, (c) => this.keyable(c) && c.name !== 'id').concat(this.rnd() < 0.15 ? [t.cols[0]] : []));
  }

  /** A constant condition on a column of `t` (sometimes one the planner refuses: temporal, FLOAT). */
  predicate(t: Table, alias?: string): string {
    const rnd = this.rnd;
    const usable = this.cols(t, (c) => (c.kind !== 'float' || !this.avoid.has('float-compare')) && (!isTemporal(c) || rnd() < 0.1));
    const c = pick(rnd, usable);
    const col = q(c, alias);
    // Not `1e300`: node-sql-parser reads exponent notation without a point as a column name (404).
    const pool = c.pool.filter((x) => x.startsWith("'") || !/e/i.test(x));
    const v = () => pick(rnd, pool.length ? pool : ['1']);
    const forms: string[] = [`${col} IS NULL`, `${col} IS NOT NULL`, `${col} = ${v()}`, `${col} <> ${v()}`, `${col} IN (${v()}, ${v()})`, `NOT (${col} = ${v()})`];
    if (this.canOrder(c, 'compare')) {
      const lt = `${col} < ${v()}`, ge = `${col} >= ${v()}`;
      const lo = v(), hi = v();
      // Spellings equal under a `_ci` collation (the test's connections are utf8mb4_unicode_ci) but not under the column's.
      const ciOnly = isText(c) && lo !== hi && coarseFold(lo) === coarseFold(hi) && this.avoid.has('between-ci-bounds');
      forms.push(lt, ge, `${col} BETWEEN ${lo} AND ${ciOnly ? lo : hi}`);
    }
    let p = pick(rnd, forms);
    // Numbers in exponent notation are refused; keep the DOUBLE pool's to the few that need it.
    if (rnd() < 0.2) p = `(${p} OR ${this.predicate(t, alias)})`;
    return p;
  }

  private where(params: Param[], t: Table, alias: string | undefined, param: boolean, multi = false): string[] {
    const conds: string[] = [];
    if (param) {
      const c = this.paramCol(t);
      params.push({ table: t, col: c });
      if (multi) params.push({ table: t, col: c });
      conds.push(multi ? `${q(c, alias)} IN (?, ?)` : `${q(c, alias)} = ?`);
    }
    if (this.rnd() < 0.4) conds.push(this.predicate(t, alias));
    return conds;
  }

  private build(shape: string, outs: Out[], from: string, conds: string[], params: Param[], tail = '', order: number[] | null = null, limit: Query['limit'] = null): Query {
    const where = conds.length ? ` WHERE ${conds.join(' AND ')}` : '';
    return { shape, sql: `SELECT ${outs.map((o) => o.expr).join(', ')} FROM ${from}${where}${tail}`, params, order, limit, fold: outs.map((o) => o.fold) };
  }

  /** `ORDER BY` over some selected outputs, [DESC], with the table's id last when `total`. */
  private orderBy(outs: Out[], candidates: number[], total: number | null): { sql: string; order: number[] } {
    const n = Math.min(candidates.length, int(this.rnd, 1, 2));
    const chosen = [...candidates].sort(() => this.rnd() - 0.5).slice(0, n);
    if (total !== null && !chosen.includes(total) && (chosen.length === 0 || this.rnd() < 0.7)) chosen.push(total);
    const sql = chosen.map((i) => `${outs[i].expr}${this.rnd() < 0.4 ? ' DESC' : ''}`).join(', ');
    return { sql: ` ORDER BY ${sql}`, order: chosen };
  }

  private orderable(outs: Out[], cols: Col[]): number[] {
    return outs.map((_, i) => i).filter((i) => this.canOrder(cols[i]));
  }

  point(multi: boolean): Query {
    const params: Param[] = [];
    const conds = this.where(params, this.t, undefined, true, multi);
    if (this.rnd() < 0.2) return { ...this.build('point', [{ expr: '*', fold: false }], `\`${this.t.name}\``, conds, params), fold: this.t.cols.map(() => false) };
    const cols = [...this.t.cols].sort(() => this.rnd() - 0.5).slice(0, int(this.rnd, 1, 4));
    const outs = cols.map((c) => ({ expr: q(c), fold: false }));
    if (this.rnd() < 0.3 && (this.orderable(outs, cols).length > 0 || cols.includes(this.t.cols[0]))) {
      const ob = this.orderBy(outs, this.orderable(outs, cols), cols.indexOf(this.t.cols[0]) >= 0 ? cols.indexOf(this.t.cols[0]) : null);
      return this.build(multi ? 'in-list-ordered' : 'point-ordered', outs, `\`${this.t.name}\``, conds, params, ob.sql, ob.order);
    }
    return this.build(multi ? 'in-list' : 'point', outs, `\`${this.t.name}\``, conds, params);
  }

  constant(): Query {
    const params: Param[] = [];
    const outs = this.someCols(this.t, int(this.rnd, 1, 3));
    return this.build('constant', outs, `\`${this.t.name}\``, [this.predicate(this.t)], params);
  }

  /** Aggregate outputs over `t`'s columns (aliased when `alias`). */
  private aggregates(t: Table, alias?: string): { outs: Out[]; cols: Array<Col | null> } {
    const outs: Out[] = [];
    const cols: Array<Col | null> = [];
    const n = int(this.rnd, 1, 4);
    for (let i = 0; i < n; i++) {
      const c = pick(this.rnd, t.cols);
      const fns = ['COUNT(*)', 'COUNT'];
      if (!(isCi(c) && isText(c) && this.avoid.has('ci-count-distinct'))) fns.push('COUNT(DISTINCT');
      if (isNumeric(c) && !((c.kind === 'float' || c.kind === 'double') && this.avoid.has('float-sum-avg'))) fns.push('SUM', 'AVG', 'SUM', 'AVG');
      if (this.canOrder(c, 'compare') && this.tempOk(c)) fns.push('MIN', 'MAX', 'MIN', 'MAX');
      const fn = pick(this.rnd, fns);
      if (fn === 'COUNT(*)') { outs.push({ expr: 'COUNT(*)', fold: false }); cols.push(null); continue; }
      const expr = fn === 'COUNT(DISTINCT' ? `COUNT(DISTINCT ${q(c, alias)})` : `${fn}(${q(c, alias)})`;
      outs.push({ expr, fold: (fn === 'MIN' || fn === 'MAX') && hasSpellings(c) });
      cols.push(fn === 'MIN' || fn === 'MAX' ? c : null);
    }
    return { outs, cols };
  }

  private having(outs: Out[], cols: Array<Col | null>, offset: number): string {
    const forms = ['COUNT(*) > 1', 'COUNT(*) >= 2', 'COUNT(*) < 3'];
    outs.forEach((o, i) => {
      const c = cols[i - offset];
      if (/^(SUM|COUNT)\(/.test(o.expr)) forms.push(`${o.expr} > 1`);
      const pool = c?.pool.filter((x) => x.startsWith("'") || !/e/i.test(x)) ?? [];
      if (c && /^(MIN|MAX)\(/.test(o.expr) && pool.length && !isTemporal(c)) {
        if (!(isText(c) && this.avoid.has('having-text-extremum'))) forms.push(`${o.expr} > ${pick(this.rnd, pool)}`);
      }
    });
    return ` HAVING ${pick(this.rnd, forms)}`;
  }

  aggregate(): Query {
    const params: Param[] = [];
    const grouped = this.rnd() < 0.65;
    const g = pick(this.rnd, this.cols(this.t, (c) => c.name !== 'id' && c.kind !== 'float' && c.kind !== 'double' && this.tempOk(c)));
    const multi = grouped && this.rnd() < 0.2;
    const conds: string[] = [];
    if (multi) {
      if (this.keyable(g)) {
        params.push({ table: this.t, col: g }, { table: this.t, col: g });
        conds.push(`${q(g)} IN (?, ?)`);
      }
    } else if (this.rnd() < 0.75) conds.push(...this.where(params, this.t, undefined, true));
    if (this.rnd() < 0.3) conds.push(this.predicate(this.t));
    const aggs = this.aggregates(this.t);
    const outs = grouped ? [{ expr: q(g), fold: hasSpellings(g) }, ...aggs.outs] : aggs.outs;
    let tail = grouped ? ` GROUP BY ${q(g)}` : '';
    if (this.rnd() < 0.35) tail += this.having(outs, aggs.cols, grouped ? 1 : 0);
    return this.build(grouped ? 'group-by' : 'scalar-aggregate', outs, `\`${this.t.name}\``, conds, params, tail);
  }

  topK(): Query {
    const params: Param[] = [];
    const conds = this.where(params, this.t, undefined, this.rnd() < 0.8, this.rnd() < 0.15);
    const cols = [this.t.cols[0], ...[...this.t.cols.slice(1)].sort(() => this.rnd() - 0.5).slice(0, int(this.rnd, 1, 3))];
    const outs = cols.map((c) => ({ expr: q(c), fold: false }));
    const ob = this.orderBy(outs, this.orderable(outs, cols).filter((i) => i > 0 || this.rnd() < 0.2), 0);
    const offset = this.rnd() < 0.3 ? int(this.rnd, 1, 3) : 0;
    const count = int(this.rnd, 1, 4);
    const lim = offset ? pick(this.rnd, [` LIMIT ${offset}, ${count}`, ` LIMIT ${count} OFFSET ${offset}`]) : ` LIMIT ${count}`;
    return this.build('top-k', outs, `\`${this.t.name}\``, conds, params, ob.sql + lim, ob.order, { offset });
  }

  aggregateTopK(): Query {
    const params: Param[] = [];
    const g = pick(this.rnd, this.cols(this.t, (c) => c.name !== 'id' && this.canOrder(c) && c.kind !== 'float' && c.kind !== 'double' && this.tempOk(c)));
    const conds = this.rnd() < 0.3 ? [this.predicate(this.t)] : [];
    const outs = [{ expr: q(g), fold: hasSpellings(g) }, { expr: 'COUNT(*)', fold: false }];
    const tail = ` GROUP BY ${q(g)} ORDER BY COUNT(*)${this.rnd() < 0.6 ? ' DESC' : ''}${this.rnd() < 0.7 ? `, ${q(g)}` : ''} LIMIT ${int(this.rnd, 1, 3)}`;
    const order = tail.includes(`, ${q(g)}`) ? [1, 0] : [1];
    return this.build('aggregate-top-k', outs, `\`${this.t.name}\``, conds, params, tail, order, { offset: 0 });
  }

  distinct(): Query {
    const params: Param[] = [];
    const conds = this.where(params, this.t, undefined, this.rnd() < 0.8);
    const cols = this.t.cols.slice(1).filter((c) => this.tempOk(c)).sort(() => this.rnd() - 0.5).slice(0, int(this.rnd, 1, 2));
    const outs = cols.map((c) => ({ expr: q(c), fold: hasSpellings(c) }));
    const base = this.build('distinct', outs, `\`${this.t.name}\``, conds, params);
    const sql = base.sql.replace(/^SELECT /, 'SELECT DISTINCT ');
    const orderable = this.orderable(outs, cols);
    if (this.rnd() < 0.4 && orderable.length) {
      const order = orderable.length === cols.length ? orderable : orderable.slice(0, 1);
      const lim = this.rnd() < 0.6 ? int(this.rnd, 1, 3) : 0;
      const tail = ` ORDER BY ${order.map((i) => outs[i].expr + (this.rnd() < 0.4 ? ' DESC' : '')).join(', ')}${lim ? ` LIMIT ${lim}` : ''}`;
      return { ...base, shape: 'distinct-ordered', sql: sql + tail, order, limit: lim ? { offset: 0 } : null };
    }
    return { ...base, sql };
  }

  /** `t` joined with `u` on k (or on s, one collation), parameters on t. */
  join(): Query {
    const params: Param[] = [];
    const kind = pick(this.rnd, ['JOIN', 'JOIN', 'LEFT JOIN']);
    const on = this.rnd() < 0.7 ? 'u.k = t.k' : 'u.s = t.s';
    const extra = this.rnd() < 0.2 ? ` AND ${this.predicate(this.u, 'u')}` : '';
    const conds = this.where(params, this.t, 't', this.rnd() < 0.85);
    if (kind === 'JOIN' && this.rnd() < 0.3) conds.push(this.predicate(this.u, 'u'));
    const outs = [...this.someCols(this.t, int(this.rnd, 1, 2), 't'), ...this.someCols(this.u, int(this.rnd, 1, 2), 'u')];
    return this.build(kind === 'JOIN' ? 'join' : 'left-join', outs, `\`${this.t.name}\` AS t ${kind} \`${this.u.name}\` AS u ON ${on}${extra}`, conds, params);
  }

  joinAggregate(): Query {
    const params: Param[] = [];
    const p = this.paramCol(this.t);
    params.push({ table: this.t, col: p });
    const aggs = this.aggregates(this.u, 'u');
    const outs = [{ expr: q(p, 't'), fold: hasSpellings(p) }, ...aggs.outs];
    let tail = ` GROUP BY ${q(p, 't')}`;
    if (this.rnd() < 0.3) tail += this.having(outs, aggs.cols, 1);
    return this.build('join-aggregate', outs, `\`${this.t.name}\` AS t ${pick(this.rnd, ['JOIN', 'LEFT JOIN'])} \`${this.u.name}\` AS u ON u.k = t.k`, [`${q(p, 't')} = ?`], params, tail);
  }

  semiJoin(): Query {
    const params: Param[] = [];
    const conds = this.where(params, this.t, 't', true);
    const sub = this.rnd() < 0.6 ? ` WHERE ${this.predicate(this.u)}` : '';
    conds.push(`t.k IN (SELECT k FROM \`${this.u.name}\`${sub})`);
    return this.build('semi-join', this.someCols(this.t, int(this.rnd, 1, 3), 't'), `\`${this.t.name}\` AS t`, conds, params);
  }

  derived(): Query {
    const params: Param[] = [];
    const conds = this.where(params, this.t, 't', true);
    const aggs = this.aggregates(this.u);
    const inner = aggs.outs.map((o, i) => `${o.expr} AS a${i}`).join(', ');
    const outs = [...this.someCols(this.t, int(this.rnd, 1, 2), 't'), ...aggs.outs.map((o, i) => ({ expr: `d.a${i}`, fold: o.fold }))];
    const from = `\`${this.t.name}\` AS t ${pick(this.rnd, ['JOIN', 'LEFT JOIN'])} (SELECT k, ${inner} FROM \`${this.u.name}\` GROUP BY k) AS d ON d.k = t.k`;
    return this.build('derived', outs, from, conds, params);
  }

  union(): Query {
    const all = this.rnd() < 0.4;
    const cols = this.t.cols.filter((c) => this.tempOk(c)).sort(() => this.rnd() - 0.5).slice(0, int(this.rnd, 1, 2));
    const inList = !all && !(cols.some(hasSpellings) && this.avoid.has('ci-union-in-list'));
    const branch = (params: Param[]) => {
      const conds = this.where(params, this.t, undefined, this.rnd() < 0.85, inList && this.rnd() < 0.15);
      if (conds.length === 0) conds.push(this.predicate(this.t));
      return `SELECT ${cols.map((c) => q(c)).join(', ')} FROM \`${this.t.name}\` WHERE ${conds.join(' AND ')}`;
    };
    const params: Param[] = [];
    let sql = `${branch(params)} UNION${all ? ' ALL' : ''} ${branch(params)}`;
    const fold = cols.map((c) => !all && hasSpellings(c));
    let order: number[] | null = null;
    let limit: Query['limit'] = null;
    const orderable = cols.map((_, i) => i).filter((i) => this.canOrder(cols[i]));
    if (this.rnd() < 0.35 && orderable.length) {
      order = orderable;
      sql += ` ORDER BY ${order.map((i) => String(i + 1)).join(', ')}`;
      if (this.rnd() < 0.6) {
        sql += ` LIMIT ${int(this.rnd, 1, 4)}`;
        limit = { offset: 0 };
      }
    }
    return { shape: all ? 'union-all' : 'union', sql, params, order, limit, fold };
  }
}

