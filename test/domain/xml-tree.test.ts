/**
 * The element tree reuses one saxes parser from parse to parse: a failed parse must not
 * leave anything behind for the next one, and attributes read like a Map in document order.
 */
import { describe, expect, it } from 'vitest';
import { parseXml } from '../../lib/xml/tree.js';
import { VirError } from '../../lib/errors.js';

describe('parseXml', () => {
  it('parses correctly after a failed parse (no state carried over)', () => {
    for (const broken of ['<a><b></a>', '<a x="1" x="2"/>', '<!DOCTYPE a><a/>', '<a>', '']) {
      expect(() => parseXml(broken)).toThrow(VirError);
      const root = parseXml("<r k='v'>\n  <c n='1'>t</c>\n</r>");
      expect(root.name).toBe('r');
      expect(root.children.map((c) => [c.name, c.attrs.get('n'), c.text, c.line])).toEqual([['c', '1', 't', 2]]);
    }
  });

  it('reads attributes like a read-only Map, in document order', () => {
    const el = parseXml(`<e z='1' a='2' m="3"/>`);
    expect([...el.attrs]).toEqual([['z', '1'], ['a', '2'], ['m', '3']]);
    expect([...el.attrs.keys()]).toEqual(['z', 'a', 'm']);
    expect(el.attrs.size).toBe(3);
    expect(el.attrs.has('a')).toBe(true);
    expect(el.attrs.has('toString')).toBe(false);
    expect(el.attrs.get('__proto__')).toBeUndefined();
    expect(parseXml(`<e __proto__='x'/>`).attrs.get('__proto__')).toBe('x');
  });

  it('applies limits per call, not to later calls', () => {
    expect(() => parseXml('<a><b/><c/></a>', { maxElements: 2 })).toThrow(/more than 2 elements/);
    expect(parseXml('<a><b/><c/></a>').children).toHaveLength(2);
  });

  it('keeps every name right past the bound of its name table', () => {
    const names = Array.from({ length: 5000 }, (_, i) => `n${i}`);
    const root = parseXml(`<r>${names.map((n) => `<${n} ${n}a='v'/>`).join('')}</r>`);
    expect(root.children.map((c) => c.name)).toEqual(names);
    expect(root.children.map((c) => c.attrs.get(`${c.name}a`))).toEqual(names.map(() => 'v'));
  });
});
