/**
 * The element tree reuses one saxes parser from parse to parse: a failed parse must not
 * leave anything behind for the next one, and attributes read like a Map in document order.
 */
import { describe, expect, it } from 'vitest';
import { attributeStepsForTests, parseXml } from '../../lib/xml/tree.js';
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

  it('refuses a repeated attribute with saxes\' message at the end of the start tag, however many attributes it has', () => {
    const message = (xml: string) => {
      try {
        parseXml(xml);
      } catch (e) {
        expect(e).toBeInstanceOf(VirError);
        return (e as VirError).message;
      }
      return 'parsed';
    };
    expect(message(`<a x='1' x='2'/>`)).toBe('XML error at line 1, column 16: duplicate attribute: x.');
    expect(message(`<a>\n <b q='1' r='2' q='3'>t</b></a>`)).toBe('XML error at line 2, column 22: duplicate attribute: q.');
    // Past the linear scan's bound the check goes through a Set: same message, same place.
    const many = Array.from({ length: 40 }, (_, i) => `a${i % 30}='1'`).join(' ');
    expect(message(`<a ${many}/>`)).toBe(`XML error at line 1, column ${5 + many.length}: duplicate attribute: a0.`);
    const distinct = Array.from({ length: 20000 }, (_, i) => `a${i}='${i}'`).join(' ');
    const el = parseXml(`<a ${distinct}/>`);
    expect(el.attrs.size).toBe(20000);
    expect(el.attrs.get('a19999')).toBe('19999');
    expect(parseXml('<a><b/></a>').children[0]!.attrs.size).toBe(0);
  });

  it('keeps every element and attribute name of a document with thousands of names', () => {
    const names = Array.from({ length: 5000 }, (_, i) => `n${i}`);
    const root = parseXml(`<r>${names.map((n) => `<${n} ${n}a='v'/>`).join('')}</r>`);
    expect(root.children.map((c) => c.name)).toEqual(names);
    expect(root.children.map((c) => c.attrs.get(`${c.name}a`))).toEqual(names.map(() => 'v'));
  });
});

describe('attribute steps taken over from saxes', () => {
  const docs = [
    `<domain type='xen' id='3'><name>a&amp;b</name><devices><disk type="file" device='disk'><source file='/x y'/></disk></devices></domain>`,
    `<r a='1' b="2" c='&lt;3&gt;'>\n<e/><f g=''/>text<![CDATA[<x>]]></r>`,
    `<a ${Array.from({ length: 40 }, (_, i) => `k${i}='${i}'`).join(' ')}/>`,
  ];
  const shape = (el: ReturnType<typeof parseXml>): unknown => [el.name, [...el.attrs], el.text, el.line, el.children.map(shape)];
  const failure = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return (e as Error).message;
    }
    return 'no error';
  };

  it('the pinned saxes still has the steps (an upgrade that drops them fails here, not silently slower)', () => {
    expect(attributeStepsForTests.takenOver()).toBe(true);
  });

  it('gives the same tree and the same errors as saxes’ own attribute events', () => {
    for (const d of docs) expect(shape(parseXml(d))).toEqual(shape(attributeStepsForTests.parseWithAttributeEvents(d)));
    for (const bad of [`<a x='1' x='2'/>`, `<a>\n <b q='1' r='2' q='3'>t</b></a>`, `<a x=1/>`]) {
      expect(failure(() => parseXml(bad))).toBe(failure(() => attributeStepsForTests.parseWithAttributeEvents(bad)));
    }
  });
});
